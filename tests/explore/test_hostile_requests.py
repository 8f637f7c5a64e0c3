"""Hostile requests to a live explorer (uvicorn on a local port): each gets a 4xx with a message, never a 5xx, and
the server answers a good request after each. docs/explore.md promises this for every bad request."""

from __future__ import annotations

import http.client
import json
import socket
from concurrent.futures import ThreadPoolExecutor

import pytest

from vaekit.explore import create_app
from vaekit.explore.app import MAX_BODY, MAX_DEPTH, MAX_DIGITS
from vaekit.explore.timing import served
from vaekit.run import load_run

BIG = {"N5000": "9" * 5000, "N401": "9" * 401, "N_OVER": "1" * (MAX_DIGITS + 1)}  # N401: no float holds it


def big(body: str) -> bytes:
    """The body with its placeholders N401, N5000, N_OVER spelled out as integers of that many digits."""
    for token, digits in BIG.items():
        body = body.replace(token, digits)
    return body.encode()


GOOD = {
    "/api/decode": {"z": [0, 0, 0, 0]},
    "/api/test": {"index": 1},
    "/api/interpolate": {"a": 0, "b": 1, "steps": 3},
    "/api/decode_codes": {"codes": [[0, 1], [2, 3]]},
}
VAE_ENDPOINTS = ("/api/decode", "/api/test", "/api/interpolate", "/api/image")
VQ_ENDPOINTS = ("/api/decode_codes", "/api/resample_codes")


@pytest.fixture(scope="module")
def ports(runs):
    """kind -> the port of a live explorer of the tiny run of that kind."""
    with (
        served(create_app(load_run(runs("vae")))) as vae,
        served(create_app(load_run(runs("vqvae")))) as vq,
        served(create_app(load_run(runs("table")))) as table,
    ):
        yield {"vae": vae, "vqvae": vq, "table": table}


def post(port: int, path: str, body: bytes, chunks: list[bytes] | None = None) -> tuple[int, str]:
    """POST raw bytes (or, with `chunks`, a chunked body without Content-Length); (status, response text).

    The server may answer a body over the limit before reading all of it and close the connection, so a
    failed send still reads the answer.
    """
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    try:
        head = f"POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nConnection: close\r\n"
        if chunks is None:
            payload = head.encode() + f"Content-Length: {len(body)}\r\n\r\n".encode() + body
        else:
            parts = [b"%x\r\n%s\r\n" % (len(c), c) for c in chunks]
            payload = head.encode() + b"Transfer-Encoding: chunked\r\n\r\n" + b"".join(parts) + b"0\r\n\r\n"
        try:
            sock.sendall(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass
        response = http.client.HTTPResponse(sock)
        response.begin()
        return response.status, response.read().decode(errors="replace")
    finally:
        sock.close()


def assert_refused(port: int, status: int, text: str, expected: int | None = None) -> str:
    """A 4xx (exactly `expected` if given) carrying {"error": message}; the server still decodes afterwards."""
    assert 400 <= status < 500, (status, text[:300])
    if expected is not None:
        assert status == expected, (status, text[:300])
    message = json.loads(text)["error"]
    assert isinstance(message, str) and message
    assert_alive(port)
    return message


def assert_alive(port: int) -> None:
    status, text = post(port, "/api/test", json.dumps({"index": 0}).encode())
    assert status == 200 and ("image" in json.loads(text) or "row" in json.loads(text))  # a test image, or row


def nested(depth: int, opener: str = "[", closer: str = "]", inner: str = "0") -> str:
    return opener * depth + inner + closer * depth


DEEP = {
    "arrays": nested(1000),
    "objects": nested(1000, '{"a":', "}"),
    "in a field": '{"z": ' + nested(1000) + ', "codes": ' + nested(1000) + "}",
    "just past the limit": '{"z": ' + nested(MAX_DEPTH) + "}",
}


@pytest.mark.parametrize("name", DEEP)
@pytest.mark.parametrize("endpoint", VAE_ENDPOINTS + VQ_ENDPOINTS)
def test_deeply_nested_bodies_are_refused(ports, endpoint, name):
    port = ports["vqvae" if endpoint in VQ_ENDPOINTS else "vae"]
    message = assert_refused(port, *post(port, endpoint, DEEP[name].encode()), 400)
    assert "deep" in message


@pytest.mark.parametrize(
    "endpoint, body, words",
    [
        ("/api/decode", '{"z": [N401, 0, 0, 0]}', "401 digits"),
        ("/api/decode", '{"z": [-N401, 0, 0, 0]}', "401 digits"),
        ("/api/decode", '{"z": [N5000, 0, 0, 0]}', "5000 digits"),
        ("/api/test", '{"index": N401}', "401 digits"),
        ("/api/interpolate", '{"a": 0, "b": 1, "steps": N401}', "401 digits"),
        ("/api/image", '{"image": "x", "seed": N401}', "401 digits"),
        ("/api/decode", '{"z": [0, 0, 0, 0], "label": N_OVER}', f"{MAX_DIGITS + 1} digits"),
        ("/api/decode", '{"z": [NaN, 0, 0, 0]}', "NaN"),
        ("/api/decode", '{"z": [Infinity, 0, 0, 0]}', "Infinity"),
        ("/api/decode", '{"z": [-Infinity, 0, 0, 0]}', "-Infinity"),
        ("/api/decode", '{"z": [1e999, 0, 0, 0]}', "finite"),
        ("/api/decode", '{"z": {"0": 1}}', "'z'"),
        ("/api/decode", '{"z": "0000"}', "'z'"),
        ("/api/decode", '{"z": null}', "'z'"),
        ("/api/decode", '{"z": [true, false, true, false]}', "'z'"),
        ("/api/decode", '{"z": [[0], 0, 0, 0]}', "'z'"),
        ("/api/test", '{"index": 1.5}', "'index'"),
        ("/api/test", '{"index": [1]}', "'index'"),
        ("/api/test", '{"index": {"a": 1}}', "'index'"),
        ("/api/test", '{"index": -1}', "'index'"),
        ("/api/interpolate", '{"a": 0, "b": 1, "steps": "10"}', "'steps'"),
        ("/api/interpolate", '{"a": 0, "b": 1, "mode": ["linear"]}', "'mode'"),
        ("/api/interpolate", '{"a": 0, "b": 1, "mode": {"x": 1}}', "'mode'"),
        ("/api/image", '{"image": 12}', "'image'"),
        ("/api/image", '{"image": ["data:image/png;base64,"]}', "'image'"),
        ("/api/image", '{"image": "data:image/png;base64,"}', "'image'"),
        ("/api/decode", "42", "JSON object"),
        ("/api/decode", '"z"', "JSON object"),
        ("/api/decode", "null", "JSON object"),
        ("/api/decode", "[]", "JSON object"),
        ("/api/decode", '{"z": [0, 0, 0, 0]', "not valid JSON"),
        ("/api/decode", "\ufeff{}", "'z'"),
        ("/api/test", "", "'index' is required"),
    ],
)
def test_huge_numbers_non_numbers_and_wrong_types_are_refused(ports, endpoint, body, words):
    port = ports["vae"]
    assert words in assert_refused(port, *post(port, endpoint, big(body)), 400)


@pytest.mark.parametrize(
    "body, words",
    [
        ('{"codes": "0123"}', "'codes'"),
        ('{"codes": [[0, 1], [2, N401]]}', "401 digits"),
        ('{"codes": [[0, 1], [2, 3.0]]}', "'codes'"),
        ('{"codes": [[0, 1], [2, 3]], "mask": {"0": 1}}', "'mask'"),
        ('{"codes": [[0, 1], [2, 3]], "mask": [[1, 0], [0, NaN]]}', "NaN"),
        ('{"codes": [[0, 1], [2, 3]], "mask": [[1, 0], [0, 1]], "seed": -1}', "'seed'"),
    ],
)
def test_wrong_code_maps_are_refused(ports, body, words):
    port = ports["vqvae"]
    assert words in assert_refused(port, *post(port, "/api/resample_codes", big(body)), 400)


def test_bytes_that_are_not_text_are_refused(ports):
    port = ports["vae"]
    for body in (b"\xff\xfe\x00{", b'{"z": "\xc3\x28"}', bytes(range(256))):
        assert "not valid JSON" in assert_refused(port, *post(port, "/api/decode", body), 400)


def test_chunked_bodies_are_counted_as_they_arrive(ports):
    port = ports["vae"]
    over = [b" " * 65536] * (MAX_BODY // 65536 + 2)  # no Content-Length: the server must count
    assert "too large" in assert_refused(port, *post(port, "/api/decode", b"", chunks=over), 413)
    one_byte_over = [b"{" + b" " * (MAX_BODY - 1), b"}"]
    assert "too large" in assert_refused(port, *post(port, "/api/decode", b"", chunks=one_byte_over), 413)
    good = json.dumps(GOOD["/api/decode"]).encode()
    status, text = post(port, "/api/decode", b"", chunks=[good[:5], good[5:]])
    assert status == 200 and json.loads(text)["image"].startswith("data:image/png")


def test_a_body_over_the_limit_with_its_length_declared_is_refused(ports):
    port = ports["vae"]
    body = b'{"image": "' + b"A" * MAX_BODY + b'"}'
    assert "too large" in assert_refused(port, *post(port, "/api/image", body), 413)


def test_concurrent_hostile_and_good_requests(ports):
    """Many requests at once, bad ones among good ones: the bad get a 4xx, the good their answer, none a 5xx."""
    port = ports["vae"]
    bad = [DEEP["arrays"], '{"z": [N401, 0, 0, 0]}', '{"z": [NaN, 0, 0, 0]}', '{"index": "1"}', "[]"]
    jobs = [(path, json.dumps(body), 200) for path, body in GOOD.items() if path != "/api/decode_codes"] * 8
    jobs += [(path, body, 400) for body in bad for path in VAE_ENDPOINTS] * 2

    def send(job):
        path, body, _ = job
        return post(port, path, big(body))

    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(send, jobs))
    for (path, body, expected), (status, text) in zip(jobs, answers, strict=True):
        assert status == expected, (path, body[:60], status, text[:200])
        assert ("error" in json.loads(text)) == (expected != 200)
    assert_alive(port)


# A table run (2 latent dimensions, 30 test rows, a label column the plain VAE does not take).
TABLE_ENDPOINTS = ("/api/decode", "/api/test", "/api/interpolate")


@pytest.mark.parametrize("name", DEEP)
@pytest.mark.parametrize("endpoint", TABLE_ENDPOINTS)
def test_deeply_nested_bodies_are_refused_by_a_table_run(ports, endpoint, name):
    port = ports["table"]
    assert "deep" in assert_refused(port, *post(port, endpoint, DEEP[name].encode()), 400)


@pytest.mark.parametrize(
    "endpoint, body, words",
    [
        ("/api/decode", '{"z": [0, 0, 0, 0]}', "list of 2 finite numbers"),
        ("/api/decode", '{"z": [N401, 0]}', "401 digits"),
        ("/api/decode", '{"z": [NaN, 0]}', "NaN"),
        ("/api/decode", '{"z": [1e999, 0]}', "finite"),
        ("/api/decode", '{"z": [1001, 0]}', "within +-1000"),
        ("/api/decode", '{"z": [0, 0], "label": 1}', "takes no label"),
        ("/api/decode", '{"z": [0, 0], "resample": 3}', "needs a model with layers"),
        ("/api/test", '{"index": 30}', "'index' must be an integer from 0 to 29"),
        ("/api/test", '{"index": "0"}', "'index'"),
        ("/api/interpolate", '{"a": 0, "b": 30}', "'b'"),
        ("/api/interpolate", '{"a": 0, "b": 1, "steps": 33}', "'steps'"),
        ("/api/decode", "[]", "JSON object"),
    ],
)
def test_wrong_fields_are_refused_by_a_table_run(ports, endpoint, body, words):
    port = ports["table"]
    assert words in assert_refused(port, *post(port, endpoint, big(body)))


@pytest.mark.parametrize("body", [b'{"image": "x"}', DEEP["arrays"].encode(), b"not json", b"x" * (MAX_BODY + 1)])
def test_image_endpoints_refuse_a_table_run_before_reading_the_body(ports, body):
    port = ports["table"]
    message = assert_refused(port, *post(port, "/api/image", body), 404)
    assert "needs a run on images" in message and "table" in message


def test_a_table_run_answers_far_out_latent_vectors_with_finite_rows(ports):
    """|z| at the bound: rates that overflow float32 are clamped, so the answer is JSON (a 200), never a 5xx."""
    port = ports["table"]
    for z in ([1000, -1000], [-1000, 1000], [1000, 1000]):
        status, text = post(port, "/api/decode", json.dumps({"z": z}).encode())
        assert status == 200, text[:300]
        row = json.loads(text)["row"]
        assert all(not isinstance(v, float) or abs(v) < 1e16 for v in row.values())


def test_concurrent_hostile_and_good_requests_to_a_table_run(ports):
    port = ports["table"]
    good = [("/api/decode", {"z": [0.5, -0.5]}), ("/api/test", {"index": 3}), ("/api/interpolate", {"a": 0, "b": 1})]
    jobs = [(path, json.dumps(body), 200) for path, body in good] * 8
    jobs += [(path, body, 400) for body in (DEEP["arrays"], '{"z": [NaN, 0]}', "[]") for path in TABLE_ENDPOINTS] * 2
    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(lambda job: post(port, job[0], big(job[1])), jobs))
    for (path, body, expected), (status, text) in zip(jobs, answers, strict=True):
        assert status == expected, (path, body[:60], status, text[:200])
    assert_alive(port)
