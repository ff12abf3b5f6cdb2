"""The URLs Fleet hands out for a server bound to every interface lead somewhere."""

from fleet.addresses import advertised_host, http_url
from fleet.config import Settings
from fleet.serving import router_url, version_url
from fleet.serving.apps import app_url


def test_a_real_bind_host_is_its_own_address():
    assert http_url("127.0.0.1", 8090) == "http://127.0.0.1:8090"
    assert http_url("10.1.2.3", 8080, None) == "http://10.1.2.3:8080"


def test_a_wildcard_bind_is_never_the_address_handed_out():
    for wildcard in ("0.0.0.0", "::"):
        host = advertised_host(wildcard)
        assert host not in ("0.0.0.0", "::", "") and host.count(".") == 3, host
    assert http_url("::", 8090, "fd00::1") == "http://[fd00::1]:8090"


def test_advertise_host_names_every_url_of_a_wildcard_installation(tmp_path):
    settings = Settings.model_validate({
        "home": str(tmp_path),
        "gateway": {"host": "0.0.0.0", "advertise_host": "fleet-head-svc"},
        "serving": {"host": "0.0.0.0", "advertise_host": "fleet-head-svc", "serve_port": 8000,
                    "router_port": 8090}})
    assert router_url(settings) == "http://fleet-head-svc:8090"
    assert version_url(settings, "churn", 3) == "http://fleet-head-svc:8000/models/churn/v3"
    name = settings.serving.apps[0].name
    assert app_url(settings, name).startswith("http://fleet-head-svc:8000")
