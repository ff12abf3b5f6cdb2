"""Small documents of every kind a knowledge base reads, written by the tests themselves
(no binary fixtures): markdown, text, HTML, and a real PDF with a text layer per page."""

from __future__ import annotations

from pathlib import Path


def pdf_bytes(pages: list[str]) -> bytes:
    """A minimal PDF 1.4 with one Helvetica text line per page, offsets computed, so
    pypdf reads it as any PDF with a text layer."""
    objs: list[bytes] = []
    n = len(pages)
    font = 3 + 2 * n
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(n))
    objs.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objs.append(f"<< /Type /Pages /Kids [{kids}] /Count {n} >>".encode())
    for i, text in enumerate(pages):
        content = 4 + 2 * i  # the page itself is object 3 + 2i
        objs.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents "
                    f"{content} 0 R /Resources << /Font << /F1 {font} 0 R >> >> >>".encode())
        safe = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        stream = f"BT /F1 12 Tf 72 720 Td ({safe}) Tj ET".encode()
        objs.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    objs.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objs, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1,
                                                                            xref)
    return bytes(out)


REFUNDS = """# Refunds

Customers may return any item within 30 days of delivery for a full refund of the price.
Refunds go back to the original payment method within five business days.

## Exceptions

Gift cards and opened software cannot be refunded.
"""

SHIPPING = ("Orders ship from the Rotterdam warehouse. Standard shipping takes three to five "
            "working days inside the European Union; express takes one day.\n")

HTML = """<html><head><title>Support hours</title><style>body {color: red}</style>
<script>var tracking = "do not index me";</script></head>
<body><h1>Support hours</h1><p>The support desk answers chat on weekdays from
9:00 to 17:00 Central European Time.</p></body></html>"""

PDF_PAGES = ["The warranty covers manufacturing defects for two years.",
             "Batteries are covered for six months only."]


def write_corpus(folder: Path) -> dict[str, Path]:
    """The four supported kinds, one unsupported file and one broken PDF."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "refunds": folder / "refunds.md",
        "shipping": folder / "policies" / "shipping.txt",
        "support": folder / "support.html",
        "warranty": folder / "warranty.pdf",
        "table": folder / "prices.csv",
        "broken": folder / "broken.pdf",
    }
    files["shipping"].parent.mkdir(exist_ok=True)
    files["refunds"].write_text(REFUNDS)
    files["shipping"].write_text(SHIPPING)
    files["support"].write_text(HTML)
    files["warranty"].write_bytes(pdf_bytes(PDF_PAGES))
    files["table"].write_text("sku,price\na,1\n")
    files["broken"].write_bytes(b"%PDF-1.4\nthis is not a pdf at all")
    return files


NETWORK = ("# Networking\n\nEvery service listens on the loopback interface unless told "
           "otherwise. Requests from other machines need a reverse proxy in front.\n")
SETTINGS = {  # prose about routers and listening, and the one line that says the port
    "gateway.md": "# The gateway\n\nThe gateway listens for HTTP requests and hands each to a "
                  "worker. It answers health checks on its own path and restarts its workers "
                  "when they fail.\n",
    "network.md": NETWORK,
    "proxy.md": "# The router\n\nThe router forwards each request to a model replica, picking "
                "the replica with the fewest requests in flight.\n",
    "settings.md": "# Settings\n\n```yaml\nserving:\n  host: 127.0.0.1\n  router_port: 8090   "
                   "# where the router accepts requests\n  refresh_s: 0.25\n  request_timeout_s:"
                   " 30\n  version_header: x-fleet-version\n  sticky_header: x-fleet-sticky-key\n"
                   "```\n",
}


def write_settings_corpus(folder: Path) -> None:
    """SETTINGS as files: where a question's words find what its embedding does not."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in SETTINGS.items():
        (folder / name).write_text(text)
