"""``warroom integration create`` runs apart from the server, so it cannot know the port ``warroom serve
--port`` listens on: it prints the endpoint with --base-url, else WARROOM_BASE_URL, else the URL the ``warroom``
client talks to (WARROOM_URL or the config file), and says so when it has none of them."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.cli.live import WARROOM

CREATE = ["integration", "create", "--service", "checkout", "--kind", "webhook", "--name"]


def _run(data_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("WARROOM_")}
    clean.update(WARROOM_DATA_DIR=str(data_dir), HOME=str(data_dir), XDG_CONFIG_HOME="", **env)
    return subprocess.run(
        [str(WARROOM), *args], env=clean, capture_output=True, text=True, timeout=120, check=False
    )


def _endpoint(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout.split("endpoint:", 1)[1].split()[0]


def test_the_endpoint_follows_the_server_the_cli_talks_to(demo_data_dir: Path) -> None:
    client = _run(demo_data_dir, *CREATE, "from WARROOM_URL", WARROOM_URL="http://127.0.0.1:9123/api/v1/")
    assert _endpoint(client) == "http://127.0.0.1:9123/integrations/webhook"
    assert client.stderr == ""

    config = demo_data_dir / "client.toml"
    config.write_text('url = "http://warroom.internal:8443"\ntoken = "wr_at_x"\n')
    from_file = _run(demo_data_dir, *CREATE, "from the config file", WARROOM_CONFIG=str(config))
    assert _endpoint(from_file) == "http://warroom.internal:8443/integrations/webhook"

    server = _run(
        demo_data_dir,
        *CREATE,
        "from the server's own setting",
        WARROOM_BASE_URL="https://warroom.example.com",
        WARROOM_URL="http://127.0.0.1:9123",
    )
    assert _endpoint(server) == "https://warroom.example.com/integrations/webhook"

    explicit = _run(
        demo_data_dir,
        *CREATE,
        "explicit",
        "--base-url",
        "https://alerts.example.com/",
        WARROOM_BASE_URL="https://warroom.example.com",
    )
    assert _endpoint(explicit) == "https://alerts.example.com/integrations/webhook"

    bad = _run(demo_data_dir, *CREATE, "bad", "--base-url", "warroom.example.com")
    assert bad.returncode == 2
    assert "--base-url: the server URL must start with http:// or https://" in bad.stderr

    unknown = _run(demo_data_dir, *CREATE, "nothing configured")
    assert _endpoint(unknown) == "http://127.0.0.1:8000/integrations/webhook"
    assert "note: no server URL is configured" in unknown.stderr
