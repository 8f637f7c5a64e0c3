"""The explorer of a text run over HTTP: sliders decode a sentence (greedy or beam search), a typed sentence is read
with the run's tokenizer (unknown words as <unk>), encoded, decoded back and shown with its nearest training
sentences; homotopies between typed sentences; the map of the test set. Every bad request gets a 4xx with a
message; a language model, without z, refuses what needs one."""

from __future__ import annotations

import math

import pytest
import torch
from starlette.testclient import TestClient

from vaekit.explore import create_app
from vaekit.explore.sequences import MAX_BEAM_WIDTH, MAX_NEIGHBOURS, MAX_TEXT_CHARS
from vaekit.report.views import load_split
from vaekit.run import load_run
from vaekit.views.sequences import decode_texts


@pytest.fixture(scope="module")
def run(runs):
    return load_run(runs("text"))


@pytest.fixture(scope="module")
def client(run):
    return TestClient(create_app(run))


@pytest.fixture(scope="module")
def train_x(run):
    return load_split(run, "train").x


def test_info_describes_the_text_tools(client, run):
    info = client.get("/api/info").json()
    assert info["kind"] == "sequence" and info["text_tools"] is True and info["image_tools"] is False
    assert info["decodings"] == ["greedy", "beam"] and info["max_beam_width"] == MAX_BEAM_WIDTH
    assert info["max_length"] == run.spec.event_shape[0] and info["vocab_size"] == len(run.spec.vocabulary)
    assert info["latent"]["dim"] == 3 and info["num_train"] > 0


@pytest.mark.parametrize("decoding", [{}, {"decoding": "greedy"}, {"decoding": "beam", "beam_width": 3}])
def test_decode_gives_the_sentence_of_the_chosen_decoding_and_its_log_probability(client, run, decoding):
    z = [0.5, -1.0, 2.0]
    out = client.post("/api/decode", json={"z": z, **decoding}).json()
    px_z = run.likelihood_at(torch.tensor([z]))
    rows = px_z.beam_search(3) if decoding.get("decoding") == "beam" else px_z.greedy()  # (1, T)
    assert out["text"] == decode_texts(run.spec, rows)[0]
    with torch.no_grad():
        assert out["log_prob"] == pytest.approx(float(px_z.log_prob(rows)[0]), rel=1e-5)
    assert out["tokens"] == int((rows != 0).sum()) and out["decoding"] == decoding.get("decoding", "greedy")
    assert out["beam_width"] == (3 if decoding.get("decoding") == "beam" else None)


def test_a_test_sentence_comes_with_its_reconstruction_and_z(client, run):
    x = load_split(run, "test").x
    out = client.post("/api/test", json={"index": 2}).json()
    assert out["text"] == decode_texts(run.spec, x[2:3])[0]
    assert out["decoded"]["text"] == decode_texts(run.spec, run.reconstruct(x[2:3]))[0]
    assert out["z"] == pytest.approx(run.encode(x[2:3])[0].tolist(), abs=1e-6)


def test_the_map_places_every_test_sentence_and_draws_no_grid(client, run):
    out = client.get("/api/map").json()
    assert out["grid"] is None and len(out["points"]) == load_split(run, "test").x.shape[0]


def test_a_typed_sentence_is_read_with_the_runs_tokenizer_and_unknown_words_become_unk(client, run):
    out = client.post("/api/text", json={"text": "the cat zorblax on the mat", "neighbours": 4}).json()
    assert [t["text"] for t in out["tokens"]] == ["the", "cat", "zorblax", "on", "the", "mat"]
    assert [t["unk"] for t in out["tokens"]] == [False, False, True, False, False, False]
    assert out["seen"] == "the cat <unk> on the mat" and out["unknown"] == 1
    tokens = run.spec.vocabulary.tokens
    ids = [tokens.index("the"), tokens.index("cat"), 3, tokens.index("on"), tokens.index("the"), tokens.index("mat")]
    row = torch.zeros(1, run.spec.event_shape[0], dtype=torch.int64)  # <pad>
    row[0, :7] = torch.tensor([*ids, 2])  # the tokens, <unk> (3) for the unknown word, <eos> (2)
    z = run.encode(row)
    assert out["z"] == pytest.approx(z[0].tolist(), abs=1e-5)
    assert out["reconstruction"]["text"] == decode_texts(run.spec, run.likelihood_at(z).greedy())[0]


def test_the_nearest_training_sentences_are_nearest_by_posterior_mean(client, run, train_x):
    out = client.post("/api/text", json={"text": "a dog ran to the park today", "neighbours": 5}).json()
    found = out["neighbours"]
    assert len(found) == 5
    distances = torch.cdist(torch.tensor([out["z"]], dtype=torch.float64), run.encode(train_x).double())[0]
    best = distances.sort().values[:5]
    assert [n["distance"] for n in found] == pytest.approx(best.tolist(), abs=1e-3)  # the 5 smallest, in order
    for n in found:
        assert n["text"] == decode_texts(run.spec, train_x[n["index"] : n["index"] + 1])[0]
        assert n["distance"] == pytest.approx(float(distances[n["index"]]), abs=1e-3)


def test_a_decoded_sentence_with_unk_encodes_back_to_its_own_tokens(client):
    out = client.post("/api/text", json={"text": "the <unk> sat"}).json()
    assert [t["unk"] for t in out["tokens"]] == [False, True, False] and out["seen"] == "the <unk> sat"


def test_a_homotopy_between_typed_sentences_runs_from_one_decoding_to_the_other(client):
    a, b = "the cat sat on the hat", "a dog ran to the lake today"
    for decoding in ({"decoding": "greedy"}, {"decoding": "beam", "beam_width": 2}):
        out = client.post("/api/interpolate_text", json={"a": a, "b": b, "steps": 5, **decoding}).json()
        assert len(out["texts"]) == 5 and out["ends"] == [a, b] and out["decoding"] == decoding["decoding"]
        ends = [client.post("/api/text", json={"text": t, **decoding}).json()["reconstruction"]["text"] for t in (a, b)]
        assert [out["texts"][0], out["texts"][-1]] == ends


def test_interpolation_between_test_sentences_gives_sentences(client):
    out = client.post("/api/interpolate", json={"a": 0, "b": 1, "steps": 4}).json()
    assert len(out["texts"]) == 4 and all(isinstance(t, str) for t in out["texts"])


def test_typed_text_is_only_text(client):
    out = client.post("/api/text", json={"text": "../etc <script> os.system"}).json()
    # only < and > are tokens of the run (its <b>): the rest is read as <unk>, nothing is opened or run
    assert out["seen"] == "<unk> <unk> <unk> <unk> < <unk> > <unk> <unk> <unk>"
    assert math.isfinite(out["reconstruction"]["log_prob"])


TOO_LONG = " ".join(["the"] * 40)
BAD = [
    ("/api/text", {}, 400, "'text' is required"),
    ("/api/text", {"text": ""}, 400, "'text' is required"),
    ("/api/text", {"text": "   "}, 400, "'text' is required"),
    ("/api/text", {"text": 5}, 400, "'text' is required"),
    ("/api/text", {"text": ["a"]}, 400, "'text' is required"),
    ("/api/text", {"text": "x" * (MAX_TEXT_CHARS + 1)}, 413, f"at most {MAX_TEXT_CHARS}"),
    ("/api/text", {"text": TOO_LONG}, 400, "this run reads at most"),
    ("/api/text", {"text": "...!?"}, 200, None),  # punctuation is tokens (unknown here): read as <unk>
    ("/api/text", {"text": "the cat", "neighbours": 0}, 400, "'neighbours'"),
    ("/api/text", {"text": "the cat", "neighbours": MAX_NEIGHBOURS + 1}, 400, "'neighbours'"),
    ("/api/text", {"text": "the cat", "neighbours": "5"}, 400, "'neighbours'"),
    ("/api/text", {"text": "the cat", "neighbours": True}, 400, "'neighbours'"),
    ("/api/text", {"text": "the cat", "decoding": "sample"}, 400, "'decoding' must be one of greedy, beam"),
    ("/api/decode", {"z": [0, 0, 0], "decoding": "beam", "beam_width": 0}, 400, "'beam_width'"),
    ("/api/decode", {"z": [0, 0, 0], "decoding": "beam", "beam_width": MAX_BEAM_WIDTH + 1}, 400, "'beam_width'"),
    ("/api/decode", {"z": [0, 0, 0], "decoding": "beam", "beam_width": 2.5}, 400, "'beam_width'"),
    ("/api/decode", {"z": [0, 0]}, 400, "'z' must be a list of 3"),
    ("/api/interpolate_text", {"a": "the cat"}, 400, "'b' is required"),
    ("/api/interpolate_text", {"a": "the cat", "b": "a dog", "steps": 1}, 400, "'steps'"),
    ("/api/interpolate_text", {"a": "the cat", "b": "a dog", "steps": 33}, 400, "'steps'"),
    ("/api/interpolate_text", {"a": TOO_LONG, "b": "a dog"}, 400, "the first sentence has 40 tokens"),
    ("/api/image", {"image": "x"}, 404, "needs a run on images; this run models sequence data"),
]


@pytest.mark.parametrize("path, body, status, words", BAD)
def test_bad_requests_get_a_4xx_with_a_message(client, path, body, status, words):
    response = client.post(path, json=body)
    assert response.status_code == status, response.text
    if words is not None:
        assert words in response.json()["error"]
    assert client.post("/api/decode", json={"z": [0, 0, 0]}).status_code == 200  # still serving


def test_a_language_model_refuses_what_needs_z(runs):
    client = TestClient(create_app(load_run(runs("text-lm"))))
    info = client.get("/api/info").json()
    assert info["kind"] == "sequence" and info["model_type"] == "lm" and "latent" not in info
    for path, body in [("/api/text", {"text": "the cat"}), ("/api/decode", {"z": []}),
                       ("/api/interpolate_text", {"a": "the cat", "b": "a dog"})]:  # fmt: skip
        response = client.post(path, json=body)
        assert response.status_code == 404 and "needs a model with latent_vector" in response.json()["error"]


def test_a_table_run_refuses_text_and_decodings(runs):
    client = TestClient(create_app(load_run(runs("table"))))
    response = client.post("/api/text", json={"text": "the cat"})
    assert response.status_code == 404 and "needs a run on text; this run models table data" in response.json()["error"]
    response = client.post("/api/decode", json={"z": [0, 0], "decoding": "beam"})
    assert response.status_code == 400 and "give no 'decoding'" in response.json()["error"]
