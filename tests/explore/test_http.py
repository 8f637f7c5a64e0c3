"""The explorer's HTTP API: every endpoint on tiny runs, and bad requests answered with a 4xx and a message."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image
from starlette.testclient import TestClient

from vaekit.explore import create_app
from vaekit.explore.app import MAX_BODY, MAX_IMAGE_SIDE, MAX_STEPS
from vaekit.run import load_run


@pytest.fixture(scope="module")
def clients(runs):
    made = {}

    def client(kind: str) -> TestClient:
        if kind not in made:
            made[kind] = TestClient(create_app(load_run(runs(kind))))
        return made[kind]

    return client


def png(width: int, height: int, mode: str = "L", value=128) -> str:
    buffer = io.BytesIO()
    Image.new(mode, (width, height), value).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def image_of(uri: str) -> Image.Image:
    assert uri.startswith("data:image/png;base64,")
    return Image.open(io.BytesIO(base64.b64decode(uri.partition(",")[2])))


def error(response, status: int) -> str:
    assert response.status_code == status, response.text
    message = response.json()["error"]
    assert isinstance(message, str) and message
    return message


def test_page_and_static_files_are_served_with_a_strict_content_policy(clients):
    c = clients("vae")
    page = c.get("/")
    assert page.status_code == 200 and "/static/app.js" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    for name in ("app.js", "style.css"):
        assert c.get(f"/static/{name}").status_code == 200
    assert c.get("/static/../app.py").status_code == 404  # nothing outside the static folder
    icon = c.get("/favicon.ico")  # asked for by every browser, whatever the page links
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")


def test_info_lists_the_latent_dimensions_by_decreasing_kl(clients):
    info = clients("vae").get("/api/info").json()
    assert info["model_type"] == "vae" and "latent_vector" in info["capabilities"]
    dims = info["latent"]["dims"]
    assert sorted(d["dim"] for d in dims) == [0, 1, 2, 3] and info["latent"]["score_kind"] == "kl"
    scores = [d["score"] for d in dims]
    assert scores == sorted(scores, reverse=True)
    assert all(d["collapsed"] == (d["score"] < 0.01) for d in dims)
    assert all(d["low"] <= -3 and d["high"] >= 3 for d in dims)


def test_decode_returns_an_image_of_the_runs_size_that_depends_on_z(clients):
    c = clients("vae")
    a = c.post("/api/decode", json={"z": [0, 0, 0, 0]}).json()
    b = c.post("/api/decode", json={"z": [3, -3, 3, -3]}).json()
    assert image_of(a["image"]).size == (8, 8) and a["image"] != b["image"]
    assert a["ms"] > 0


def test_map_has_a_point_per_test_image_and_a_decoded_grid(clients):
    c = clients("vae")
    m = c.get("/api/map").json()
    info = c.get("/api/info").json()
    assert len(m["points"]) == len(m["labels"]) == info["num_test"]
    assert image_of(m["grid"]).size == (8 * m["grid_size"], 8 * m["grid_size"])
    u0, u1, v0, v1 = m["extent"]
    assert u0 < u1 and v0 < v1
    assert m["axes"] == [m["name"].split()[0], m["name"].split()[2]]  # "zI and zJ (highest KL ...)": one per axis


def test_test_image_gives_its_latent_mean_and_label(clients):
    out = clients("vae").post("/api/test", json={"index": 3}).json()
    assert out["index"] == 3 and len(out["z"]) == 4 and isinstance(out["label"], int)


@pytest.mark.parametrize("mode", ["linear", "spherical"])
def test_interpolation_has_steps_images(clients, mode):
    out = clients("vae").post("/api/interpolate", json={"a": 0, "b": 5, "steps": 6, "mode": mode}).json()
    assert image_of(out["images"]).size == (6 * 8 + 7, 8 + 2)  # 1-pixel gutters


def test_own_image_gives_reconstruction_draws_and_nearest_training_images(clients):
    out = clients("vae").post("/api/image", json={"image": png(40, 30), "draws": 3, "seed": 1}).json()
    assert image_of(out["input"]).size == (8, 8)
    assert image_of(out["draws"]).size == (3 * 8 + 4, 10)
    assert len(out["neighbour_indices"]) == 5 and len(out["z"]) == 4
    assert out["neighbour_distances"] == sorted(out["neighbour_distances"])
    again = clients("vae").post("/api/image", json={"image": png(40, 30), "draws": 3, "seed": 1}).json()
    assert again["draws"] == out["draws"]  # the request's seed decides the draws


def test_conditional_run_decodes_with_the_chosen_label(clients):
    c = clients("cvae")
    info = c.get("/api/info").json()
    assert info["num_classes"] == 10
    images = {c.post("/api/decode", json={"z": [0, 0, 0], "label": k}).json()["image"] for k in (0, 7)}
    assert len(images) == 2
    assert c.get("/api/map?label=7").status_code == 200
    assert "from 0 to 9" in error(c.post("/api/decode", json={"z": [0, 0, 0], "label": 10}), 400)
    assert "takes no label" in error(clients("vae").post("/api/decode", json={"z": [0] * 4, "label": 1}), 400)


def test_hierarchical_run_redraws_its_lower_layers(clients):
    c = clients("hvae")
    info = c.get("/api/info").json()
    assert info["layer_dims"] == [3, 2] and info["latent"]["score_kind"] == "variance"
    z = [0.5, -0.5]
    fixed = c.post("/api/decode", json={"z": z}).json()["image"]
    redrawn = {c.post("/api/decode", json={"z": z, "resample": s}).json()["image"] for s in (1, 2, 3)}
    assert redrawn - {fixed}
    assert c.get("/api/map").json()["axes"] == ["principal axis 1", "principal axis 2"]
    assert "layers" in error(clients("vae").post("/api/decode", json={"z": [0] * 4, "resample": 1}), 404)


def test_vq_run_edits_and_resamples_its_code_map(clients):
    c = clients("vqvae")
    info = c.get("/api/info").json()
    assert info["codes"] == {"num_codes": 6, "shape": [2, 2], "prior": "pixelcnn"}
    out = c.post("/api/test", json={"index": 0}).json()
    codes = out["codes"]
    assert len(codes) == 2 and all(len(r) == 2 for r in codes)
    changed = [[(codes[0][0] + 1) % 6, codes[0][1]], codes[1]]
    assert c.post("/api/decode_codes", json={"codes": changed}).json()["image"] != out["reconstruction"]
    keep = [[0, 1], [1, 1]]
    r = c.post("/api/resample_codes", json={"codes": codes, "mask": keep, "seed": 4}).json()
    assert r["codes"][0][0] == codes[0][0] and r["prior"] == "pixelcnn"  # unmasked codes are kept
    assert c.post("/api/resample_codes", json={"codes": codes, "mask": keep, "seed": 4}).json() == r
    for endpoint in ("/api/decode", "/api/interpolate"):
        assert "latent_vector" in error(c.post(endpoint, json={"z": [0]}), 404)
    assert c.get("/api/map").status_code == 404


@pytest.mark.parametrize(
    "endpoint, body, status, words",
    [
        ("/api/decode", {"z": [0, 0]}, 400, "list of 4 finite numbers"),
        ("/api/decode", {"z": [0, 0, "x", 0]}, 400, "list of 4"),
        ("/api/decode", {"z": [0, 0, 1e9, 0]}, 400, "within"),
        ("/api/decode", {}, 400, "'z'"),
        ("/api/test", {"index": 10**9}, 400, "'index' must be an integer from 0"),
        ("/api/test", {"index": "3"}, 400, "'index'"),
        ("/api/test", {"index": True}, 400, "'index'"),
        ("/api/interpolate", {"a": 0, "b": 1, "steps": MAX_STEPS + 1}, 400, "'steps'"),
        ("/api/interpolate", {"a": 0, "b": 1, "mode": "cubic"}, 400, "linear, spherical"),
        ("/api/image", {}, 400, "'image' is required"),
        ("/api/image", {"image": "not base64!"}, 400, "not valid base64"),
        ("/api/image", {"image": base64.b64encode(b"GIF89a but not really").decode()}, 400, "not an image"),
        ("/api/image", {"image": png(8, 8), "draws": 1000}, 400, "'draws'"),
        ("/api/image", {"image": png(8, 8), "invert": "yes"}, 400, "'invert'"),
        ("/api/image", {"image": png(MAX_IMAGE_SIDE + 1, 4)}, 413, "at most 1024 a side"),
    ],
)
def test_bad_requests_get_a_4xx_with_a_message(clients, endpoint, body, status, words):
    c = clients("vae")
    assert words in error(c.post(endpoint, json=body), status)
    assert c.post("/api/decode", json={"z": [0, 0, 0, 0]}).status_code == 200  # and the server goes on


def test_bodies_that_are_not_json_objects_or_too_large_are_refused(clients):
    c = clients("vae")
    assert "not valid JSON" in error(c.post("/api/test", content=b"{index: 1"), 400)
    assert "JSON object" in error(c.post("/api/test", json=[1, 2]), 400)
    assert "too large" in error(c.post("/api/image", content=b"x" * (MAX_BODY + 1)), 413)

    def chunks():  # no Content-Length: the size is counted while reading
        for _ in range(MAX_BODY // 65536 + 2):
            yield b" " * 65536

    assert "too large" in error(c.post("/api/image", content=chunks()), 413)
    assert c.get("/api/info").status_code == 200


def test_wrong_code_grids_are_refused(clients):
    c = clients("vqvae")
    ok = [[0, 1], [2, 3]]
    assert "2x2" in error(c.post("/api/decode_codes", json={"codes": [[0, 1, 2], [0, 1, 2]]}), 400)
    assert "from 0 to 5" in error(c.post("/api/decode_codes", json={"codes": [[0, 6], [0, 0]]}), 400)
    assert "'mask'" in error(c.post("/api/resample_codes", json={"codes": ok, "mask": [[2, 0], [0, 0]]}), 400)


def test_explore_cli_refuses_a_bad_port(runs, capsys):
    from vaekit.cli.main import main

    assert main(["explore", str(runs("vae")), "--port", "70000"]) == 2
    assert "out of range" in capsys.readouterr().err


@pytest.mark.parametrize("host, warned", [("127.0.0.1", False), ("0.0.0.0", True)])
def test_explore_cli_binds_localhost_unless_told_and_warns_then(runs, capsys, monkeypatch, host, warned):
    import uvicorn

    from vaekit.cli.main import main

    served = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: served.update(kw))
    args = ["explore", str(runs("vae")), "--port", "9999"] + (["--host", host] if host != "127.0.0.1" else [])
    assert main(args) == 0
    assert served["host"] == host and served["port"] == 9999
    assert ("warning" in capsys.readouterr().err) == warned
