"""The Chroma client of this installation: embedded under FLEET_HOME/chroma by default, or a
Chroma server (`rag.chroma_url`), which a cluster needs since every node must see the same
collections. Telemetry is off: Fleet runs where nothing outside may be reached."""

from __future__ import annotations

from urllib.parse import urlparse

from fleet.config import Settings

_clients: dict[str, object] = {}


def client(settings: Settings):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    key = settings.rag.chroma_url or str(settings.chroma_dir)
    if key not in _clients:
        chroma = ChromaSettings(anonymized_telemetry=False)
        if settings.rag.chroma_url:
            u = urlparse(settings.rag.chroma_url)
            _clients[key] = chromadb.HttpClient(
                host=u.hostname or "127.0.0.1", port=u.port or (443 if u.scheme == "https"
                                                                else 8000),
                ssl=u.scheme == "https", settings=chroma)
        else:
            settings.chroma_dir.mkdir(parents=True, exist_ok=True)
            _clients[key] = chromadb.PersistentClient(path=key, settings=chroma)
    return _clients[key]


__all__ = ["client"]
