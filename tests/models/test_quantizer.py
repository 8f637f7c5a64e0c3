"""Vector quantizer: nearest codes, straight-through gradient, loss terms, EMA updates, dead-code revival."""

import pytest
import torch
import torch.distributed as dist

from vaekit.models.quantizer import VectorQuantizer, code_perplexity


def quantizer(codebook: torch.Tensor, ema: bool = False) -> VectorQuantizer:
    """A quantizer holding `codebook` (K, D), in the codebook's dtype, with consistent EMA statistics."""
    vq = VectorQuantizer(*codebook.shape, ema=ema).to(codebook.dtype)
    with torch.no_grad():
        vq.codebook.copy_(codebook)
        if ema:
            vq.embed_sum.copy_(codebook)
            vq.cluster_size.fill_(1.0)
    return vq


def randn(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def test_codes_to_vectors_to_codes_round_trip():
    vq = quantizer(randn(8, 4)).eval()
    codes = torch.randint(0, 8, (2, 3, 5), generator=torch.Generator().manual_seed(1))
    z = vq.lookup(codes)  # (2, 4, 3, 5)
    assert z.shape == (2, 4, 3, 5)
    q = vq(z)
    assert q.codes.dtype == torch.int64 and torch.equal(q.codes, codes)
    torch.testing.assert_close(q.z_q, z)
    assert torch.equal(q.usage, torch.bincount(codes.flatten(), minlength=8))


def test_nearest_code_matches_a_brute_force_loop():
    e, z_e = randn(6, 3, seed=0), randn(2, 3, 4, 4, seed=1)
    codes = quantizer(e).eval()(z_e).codes
    for b in range(2):
        for i in range(4):
            for j in range(4):
                dists = [float(((z_e[b, :, i, j] - e[k]) ** 2).sum()) for k in range(6)]
                assert codes[b, i, j] == min(range(6), key=dists.__getitem__)


def test_straight_through_gradient_equals_the_upstream_gradient():
    vq = quantizer(randn(5, 3)).eval()
    z_e = randn(2, 3, 4, 4, seed=1).requires_grad_()
    q = vq(z_e)
    torch.testing.assert_close(q.z_q, vq.lookup(q.codes))  # the forward value is the codebook vector
    loss = (q.z_q.sin() * randn(2, 3, 4, 4, seed=2)).sum()
    d_zq, d_ze = torch.autograd.grad(loss, [q.z_q, z_e])
    torch.testing.assert_close(d_ze, d_zq)


def test_codebook_loss_moves_only_the_codebook_and_commitment_only_the_encoder():
    vq = quantizer(randn(5, 3)).eval()
    z_e = randn(2, 3, 4, 4, seed=1).requires_grad_()
    q = vq(z_e)
    e = vq.lookup(q.codes).detach()
    by_hand = ((z_e.detach() - e) ** 2).sum(dim=(1, 2, 3))  # (B,)
    torch.testing.assert_close(q.codebook_loss, by_hand)
    torch.testing.assert_close(q.commitment_loss, by_hand)

    d_codebook, d_ze = torch.autograd.grad(q.codebook_loss.sum(), [vq.codebook, z_e], allow_unused=True)
    assert d_ze is None and d_codebook.abs().sum() > 0
    unused = q.usage == 0
    assert torch.all(d_codebook[unused] == 0)

    d_codebook, d_ze = torch.autograd.grad(q.commitment_loss.sum(), [vq.codebook, z_e], allow_unused=True)
    assert d_codebook is None
    torch.testing.assert_close(d_ze, 2 * (z_e.detach() - e))


def test_ema_codebook_is_a_buffer_outside_the_optimizer():
    vq = quantizer(randn(5, 3), ema=True)
    assert list(vq.parameters()) == []
    q = vq(randn(2, 3, 4, 4, seed=1).requires_grad_())
    assert not q.codebook_loss.requires_grad and q.commitment_loss.requires_grad
    torch.testing.assert_close(q.codebook_loss, q.commitment_loss.detach())  # still reported


def test_one_ema_update_matches_the_formula_by_hand():
    decay, eps = 0.99, 1e-5
    vq = quantizer(torch.tensor([[0.0, 0.0], [10.0, 10.0]], dtype=torch.float64), ema=True)
    vq.embed_sum.copy_(torch.tensor([[0.5, -0.5], [20.0, 20.0]]))  # m_i
    vq.cluster_size.copy_(torch.tensor([2.0, 2.0]))  # N_i
    z_e = torch.tensor([[1.0, 0.0], [0.0, 1.0], [9.0, 8.0]], dtype=torch.float64).T.reshape(1, 2, 1, 3)
    q = vq.train()(z_e)
    assert q.codes.tolist() == [[[0, 0, 1]]]
    assert q.z_q[0, :, 0, 2].tolist() == [10.0, 10.0]  # quantized with the codebook before the update

    n_new = [decay * 2 + (1 - decay) * 2, decay * 2 + (1 - decay) * 1]
    m_new = [
        [decay * 0.5 + (1 - decay) * 1.0, decay * -0.5 + (1 - decay) * 1.0],
        [decay * 20 + (1 - decay) * 9.0, decay * 20 + (1 - decay) * 8.0],
    ]
    total = sum(n_new)
    smoothed = [(n + eps) / (total + 2 * eps) * total for n in n_new]
    expected = [[m / smoothed[i] for m in m_new[i]] for i in range(2)]
    torch.testing.assert_close(vq.cluster_size, torch.tensor(n_new, dtype=torch.float64))
    torch.testing.assert_close(vq.embed_sum, torch.tensor(m_new, dtype=torch.float64))
    torch.testing.assert_close(vq.codebook, torch.tensor(expected, dtype=torch.float64))
    torch.testing.assert_close(vq.code_usage, torch.tensor([2.0, 1.0], dtype=torch.float64))  # first batch


@pytest.mark.parametrize("ema", [False, True])
def test_evaluation_mode_changes_nothing(ema):
    vq = quantizer(randn(5, 3), ema=ema).eval()
    before = {k: v.clone() for k, v in vq.state_dict().items()}
    vq(randn(2, 3, 4, 4, seed=1))
    for name, value in vq.state_dict().items():
        assert torch.equal(value, before[name]), name


@pytest.mark.parametrize("ema", [False, True])
def test_a_dead_code_is_revived_with_an_encoder_output_and_then_used(ema):
    codebook = torch.tensor([[0.0, 0.0], [1.0, 1.0], [100.0, 100.0]], dtype=torch.float64)  # code 2: never nearest
    vq = quantizer(codebook, ema=ema).train()
    z_e = randn(4, 2, 3, 3, seed=1)
    for _ in range(3):
        q = vq(z_e)
    assert q.usage[2] == 0 and vq.code_usage[2] == 0
    assert vq.dead_codes(threshold=0.5).tolist() == [False, False, True]

    z_flat = vq.flatten(z_e)  # (36, 2)
    revived = vq.revive_dead_codes(z_flat, torch.Generator().manual_seed(0), threshold=0.5)
    assert revived.tolist() == [False, False, True]
    assert (vq.codebook[2] == z_flat).all(dim=1).any()
    assert not vq.dead_codes(threshold=0.5).any()  # a grace period before it can be judged again
    assert vq(z_e).usage[2] > 0
    assert vq.revive_dead_codes(z_flat, torch.Generator().manual_seed(0), threshold=0.5).sum() == 0


def test_perplexity_is_k_for_uniform_usage_and_1_for_a_single_code():
    vq = quantizer(randn(4, 3)).eval()
    uniform = torch.arange(4).repeat(2, 2, 1)  # (2, 2, 4): each code used 4 times
    torch.testing.assert_close(vq(vq.lookup(uniform)).perplexity, torch.tensor(4.0))
    single = torch.full((2, 2, 4), 3)
    torch.testing.assert_close(vq(vq.lookup(single)).perplexity, torch.tensor(1.0))
    torch.testing.assert_close(code_perplexity(torch.tensor([0, 5, 0, 5])), torch.tensor(2.0))


def test_statistics_are_summed_over_processes_before_the_update(monkeypatch):
    """Two processes holding the same batch update like one process holding the batch twice."""
    z_e = randn(2, 3, 4, 4, seed=1)
    alone = quantizer(randn(5, 3), ema=True).train()
    alone(torch.cat([z_e, z_e]))

    calls = []

    def all_reduce(tensor, op=None):
        calls.append(tensor.shape)
        return tensor.mul_(2)  # the other process contributes the same statistics

    monkeypatch.setattr(dist, "is_available", lambda: True)
    monkeypatch.setattr(dist, "is_initialized", lambda: True)
    monkeypatch.setattr(dist, "all_reduce", all_reduce)
    replica = quantizer(randn(5, 3), ema=True).train()
    replica(z_e)
    assert calls == [(5, 1 + 3)]  # counts and sums in one collective call
    for name in ("codebook", "cluster_size", "embed_sum", "code_usage"):
        torch.testing.assert_close(getattr(replica, name), getattr(alone, name))

    replica.eval()(z_e)  # evaluation never communicates
    assert len(calls) == 1


def test_revival_takes_the_main_process_vectors(monkeypatch):
    monkeypatch.setattr(dist, "is_available", lambda: True)
    monkeypatch.setattr(dist, "is_initialized", lambda: True)
    monkeypatch.setattr(dist, "all_reduce", lambda tensor, op=None: tensor)
    monkeypatch.setattr(dist, "broadcast", lambda tensor, src: tensor.fill_(7.0))  # rank 0 chose 7s
    vq = quantizer(torch.tensor([[0.0, 0.0], [100.0, 100.0]], dtype=torch.float64), ema=True).train()
    z_e = randn(2, 2, 2, 2, seed=1)
    vq(z_e)
    vq.revive_dead_codes(vq.flatten(z_e), torch.Generator().manual_seed(0), threshold=0.5)
    assert vq.codebook[1].tolist() == [7.0, 7.0]
    torch.testing.assert_close(vq.embed_sum[1] / vq.cluster_size[1], vq.codebook[1])


def test_float32_by_default_and_outputs_follow_the_input_dtype():
    vq = VectorQuantizer(16, 4)
    assert vq.codebook.dtype == torch.float32
    q = vq.double()(randn(2, 4, 3, 3))
    assert q.z_q.dtype == torch.float64 and q.codebook_loss.shape == (2,) and q.usage.shape == (16,)
