"""`baton teams-package`: manifest.json and the two icons in a zip Teams accepts."""

from __future__ import annotations

import json
import struct
import zipfile
import zlib

import pytest

from adapters.teams.icons import ASSETS, color_icon, outline_icon
from adapters.teams.package import MANIFEST_VERSION, PackageError, build_package

APP_ID = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"


def png_info(data: bytes) -> tuple[int, int, int, bytes]:
    """(width, height, colour type, raw scanlines) of a non-interlaced 8-bit PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height, _, colour = struct.unpack(">IIBB", data[16:26])
    idat, pos = b"", 8
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"IDAT":
            idat += data[pos + 8:pos + 8 + length]
        pos += length + 12
    return width, height, colour, zlib.decompress(idat)


def test_package_has_manifest_and_icons(make_settings, tmp_path):
    settings = make_settings(microsoft_app_id=APP_ID)
    path = build_package(settings=settings, out_dir=tmp_path / "out", valid_domains=["bot.example.com"])
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(archive.read("manifest.json"))
        color, outline = archive.read("color.png"), archive.read("outline.png")
    assert manifest["manifestVersion"] == MANIFEST_VERSION == "1.17"
    assert manifest["$schema"].endswith("/teams/v1.17/MicrosoftTeams.schema.json")
    assert manifest["id"] == APP_ID and manifest["bots"][0]["botId"] == APP_ID
    assert manifest["bots"][0]["scopes"] == ["personal", "team", "groupChat"]
    assert manifest["validDomains"] == ["bot.example.com"] and manifest["developer"]["websiteUrl"] == "https://bot.example.com"
    assert manifest["icons"] == {"color": "color.png", "outline": "outline.png"}
    assert len(manifest["name"]["short"]) <= 30 and len(manifest["description"]["short"]) <= 80
    assert all(len(c["title"]) <= 32 for c in manifest["bots"][0]["commandLists"][0]["commands"])
    assert png_info(color)[:3] == (192, 192, 2)
    assert png_info(outline)[:3] == (32, 32, 6)


def test_outline_icon_is_white_on_transparent():
    width, height, _, raw = png_info(outline_icon())
    stride = 1 + width * 4
    pixels = [raw[row * stride + 1 + i * 4: row * stride + 5 + i * 4] for row in range(height) for i in range(width)]
    assert all(p[:3] == b"\xff\xff\xff" for p in pixels)
    alphas = {p[3] for p in pixels}
    assert 0 in alphas and 255 in alphas


def test_committed_icons_match_the_generator():
    assert (ASSETS / "color.png").read_bytes() == color_icon()
    assert (ASSETS / "outline.png").read_bytes() == outline_icon()


def test_missing_or_malformed_app_id_is_a_clear_error(make_settings, tmp_path):
    with pytest.raises(PackageError, match="MICROSOFT_APP_ID is not set"):
        build_package(settings=make_settings(microsoft_app_id=""), out_dir=tmp_path)
    with pytest.raises(PackageError, match="must be a GUID"):
        build_package(settings=make_settings(microsoft_app_id="baton-bot"), out_dir=tmp_path)
    with pytest.raises(PackageError, match="host name"):
        build_package(settings=make_settings(microsoft_app_id=APP_ID), out_dir=tmp_path, valid_domains=["https://x.example.com/path"])
    assert not list(tmp_path.glob("*.zip"))
