"""The reverse-proxy example in docs/DEPLOY.md sets the headers Streamlit cannot send and hides the metrics."""

import re

from .conftest import PROJECT_ROOT


def nginx_block() -> str:
    text = (PROJECT_ROOT / "docs" / "DEPLOY.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```nginx\n(.*?)```", text, flags=re.S)
    assert len(blocks) == 1
    return blocks[0]


def test_proxy_sets_frame_and_content_security_headers():
    block = nginx_block()
    assert re.search(r'add_header X-Frame-Options "DENY" always;', block)
    policy = re.search(r'add_header Content-Security-Policy "([^"]+)" always;', block).group(1)
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["frame-ancestors"] == "'none'" and directives["default-src"] == "'self'"
    assert "https:" not in policy and "*" not in policy  # nothing from other hosts: the app downloads nothing


def test_proxy_denies_the_metrics_endpoint_before_proxying():
    block = nginx_block()
    metrics = block.index("location = /_stcore/metrics { deny all; }")
    assert metrics < block.index("location / {")
    assert "proxy_set_header Upgrade $http_upgrade;" in block  # websockets still pass
