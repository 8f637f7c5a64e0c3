"""What the explorer computes: a run, its data encoded once at startup, and the uses its page asks for.

Everything is chosen by the run's capabilities: sliders, the map, interpolation and posterior draws need
`latent_vector`; a conditional model (`labels`) decodes with the label picked on the page; a hierarchical model
(`layers`) can redraw its lower layers under the slider's top layer; a VQ-VAE (`codes`) shows and edits code maps.
How examples are shown (images, or rows of a table) is the kind's (vaekit.explore.kinds.KINDS, keyed by spec.kind).
Each random draw comes from a generator seeded by the request's `seed`.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

import numpy as np
import torch

from vaekit.explore import sequences
from vaekit.explore.kinds import KINDS, uri
from vaekit.report.views import LatentRanking, SplitData, load_split, rank_latents
from vaekit.run import Run
from vaekit.sampling import interpolate

MAP_POINTS = 2000  # test examples on the map
MAP_GRID = 10  # decoded images per side of the grid under the map
TEST_IMAGES = 10_000  # test examples that can be picked by index
NUM_NEIGHBOURS = 5


def slerp(z_a: torch.Tensor, z_b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Spherical interpolation between z_a and z_b (D,) at t (K, 1): (K, D) (Shoemake 1985; White 2016 for VAEs).

    Falls back to the straight line when the two are (anti)parallel, where the great circle is not defined.
    """
    cos = torch.dot(z_a, z_b) / (z_a.norm() * z_b.norm()).clamp_min(1e-12)
    omega = torch.arccos(cos.clamp(-1.0, 1.0))
    if float(torch.sin(omega).abs()) < 1e-6:
        return (1 - t) * z_a + t * z_b
    return (torch.sin((1 - t) * omega) * z_a + torch.sin(t * omega) * z_b) / torch.sin(omega)


@dataclass
class LatentMap:
    """A 2-D view of the latent space: z = center + u * axes[0] + v * axes[1]; points are the test means there."""

    name: str  # what the axes are, in words
    axis_names: tuple[str, str]  # short: the label under each axis of the map
    center: torch.Tensor  # (D,)
    axes: torch.Tensor  # (2, D)
    points: torch.Tensor  # (N, 2)
    extent: tuple[float, float, float, float]  # u_min, u_max, v_min, v_max of the grid


def latent_map(means: torch.Tensor, ranking: LatentRanking) -> LatentMap:
    """The two highest-KL dimensions when the model has a KL per dimension, else the first two principal axes."""
    num, dim = means.shape
    center = means.mean(0)  # (D,)
    if ranking.kind == "kl" or dim < 2:
        picked = ranking.order[:2]
        axes = torch.zeros(2, dim, dtype=means.dtype)
        for row, d in enumerate(picked):
            axes[row, d] = 1.0
        name = " and ".join(f"z{d}" for d in picked) + " (highest KL; the other dimensions at the test-set mean)"
        axis_names = (f"z{picked[0]}", f"z{picked[1]}" if len(picked) > 1 else "(no second dimension)")
    else:
        _, _, v = torch.linalg.svd(means - center, full_matrices=False)  # v: (D, D), rows the principal axes
        axes = v[:2]
        name = "the first two principal axes of the test-set posterior means"
        axis_names = ("principal axis 1", "principal axis 2")
    points = (means - center) @ axes.T  # (N, 2)
    lo = torch.quantile(points, 0.01, dim=0).tolist() if num > 1 else [-3.0, -3.0]
    hi = torch.quantile(points, 0.99, dim=0).tolist() if num > 1 else [3.0, 3.0]
    extent = tuple(float(x) for x in (lo[0], max(hi[0], lo[0] + 1e-3), lo[1], max(hi[1], lo[1] + 1e-3)))
    return LatentMap(name, axis_names, center, axes, points, extent)


class Explorer:
    """A run with its test set encoded once; each method serves one request of the page (inputs validated)."""

    def __init__(self, run: Run) -> None:
        self.run = run
        self.caps = run.capabilities
        self.lock = threading.Lock()  # one model call at a time: predictable latency, no oversubscribed threads
        self.kind = KINDS[run.spec.kind]
        self.test = load_split(run, "test", TEST_IMAGES)
        self.kind.prepare(self)
        self.num_classes = run.config.model.num_classes if "labels" in self.caps else 0
        self.ranking: LatentRanking | None = None
        self.map: LatentMap | None = None
        if "latent_vector" in self.caps:
            head = SplitData(self.test.x[:MAP_POINTS], {k: v[:MAP_POINTS] for k, v in self.test.cond.items()}, None)
            means = run.encode(head.x, y=head.cond.get("y")).cpu()  # (N, D)
            self.ranking = rank_latents(run, head, means)
            self.map = latent_map(means, self.ranking)
            self.map_labels = None if self.test.labels is None else self.test.labels[:MAP_POINTS].tolist()

    # What the page needs to lay itself out.

    def info(self) -> dict:
        run = self.run
        info = {
            "run": run.path.name,
            "kind": run.spec.kind,
            "example_word": run.spec.facts.example_word,
            "image_tools": self.kind.image_tools,
            "text_tools": self.kind.text_tools,
            "model_type": run.config.model.type,
            "capabilities": sorted(self.caps),
            "data": run.config.data.source,
            "data_shape": list(run.data_shape),
            "num_test": int(self.test.x.shape[0]),
            "num_classes": self.num_classes,
            "prior_note": run.prior_note(),
            **self.kind.info(self),
        }
        if self.ranking is not None:
            r = self.ranking
            info["latent"] = {
                "dim": len(r.score),
                "score_kind": r.kind,
                "dims": [
                    {"dim": d, "score": r.score[d], "collapsed": r.collapsed[d], "low": r.low[d], "high": r.high[d]}
                    for d in r.order
                ],
            }
        if "layers" in self.caps:
            info["layer_dims"] = list(run.model.layer_dims)
        if "codes" in self.caps:
            info["codes"] = {
                "num_codes": run.model.num_codes,
                "shape": list(run.model.code_shape),
                "prior": run.model.prior_name,
            }
        return info

    # Uses of a latent vector.

    def labels(self, label: int | None, num: int) -> torch.Tensor | None:
        """`num` copies of the page's label for a conditional model (0 when none is picked); None for the others."""
        if "labels" not in self.caps:
            return None
        return torch.full((num,), 0 if label is None else label, dtype=torch.int64)

    def cond(self, label: int | None, num: int) -> dict[str, torch.Tensor]:
        return self.run.cond(self.labels(label, num), num)

    def decode(
        self,
        z: list[float],
        label: int | None = None,
        resample: int | None = None,
        decoding: sequences.Decoding | None = None,
    ) -> dict:
        """Decode one latent vector; a hierarchical model's lower layers at their prior means, or redrawn with
        seed `resample`; a sentence as `decoding` says (greedy by default)."""
        start = time.perf_counter()
        with self.lock, torch.no_grad():
            zt = torch.tensor([z], dtype=torch.float32, device=self.run.device)  # (1, D)
            g = None if resample is None else torch.Generator(device=self.run.device).manual_seed(resample)
            out = self.kind.decoded(self, self.run.likelihood_at(zt, g, self.labels(label, 1)), decoding)
        return {**out, "ms": 1000 * (time.perf_counter() - start)}

    def map_view(self, label: int | None = None) -> dict:
        """The test set's posterior means on the map's plane and the decoded grid over it (row 0 at the top)."""
        m = self.map
        u0, u1, v0, v1 = m.extent
        u = torch.linspace(u0, u1, MAP_GRID)
        v = torch.linspace(v1, v0, MAP_GRID)  # top row: the highest v
        vv, uu = torch.meshgrid(v, u, indexing="ij")  # (G, G): row r at v[r], column c at u[c]
        z = m.center + uu.reshape(-1, 1) * m.axes[0] + vv.reshape(-1, 1) * m.axes[1]  # (G G, D)
        with self.lock:
            grid = self.kind.map_grid(self, self.run.likelihood_at(z, y=self.labels(label, z.shape[0])))
        return {
            "name": m.name,
            "axes": list(m.axis_names),
            "points": [[round(a, 4), round(b, 4)] for a, b in m.points.tolist()],
            "labels": self.map_labels,
            "extent": list(m.extent),
            "grid": grid,  # None: the kind draws no grid (a table)
            "grid_size": MAP_GRID,
        }

    def test_image(self, index: int) -> dict:
        """Test example `index` as the kind shows it, its label, its posterior mean `z` and what the model makes of
        it: a table's reconstructed row (`reconstruction`), a VQ-VAE's code map and decoded image."""
        x = self.test.x[index : index + 1]  # (1, *event_shape)
        label = None if self.test.labels is None else int(self.test.labels[index])
        out = {"index": index, **self.kind.example(self, x), "label": label}
        with self.lock:
            if "latent_vector" in self.caps:
                y = self.test.cond["y"][index : index + 1] if "y" in self.test.cond else None
                z = self.run.encode(x, y=y)  # (1, D)
                out["z"] = z[0].tolist()
                out["decoded"] = self.kind.decoded(self, self.run.likelihood_at(z, y=y))
            if "codes" in self.caps:
                codes = self.run.encode_codes(x)  # (1, h, w)
                out["codes"] = codes[0].tolist()
                out["reconstruction"] = uri(self.run.model.decode_codes(codes))
        return out

    def interpolate(self, a: int, b: int, steps: int, mode: str) -> dict:
        """Decoded means along the line (or the great circle, `spherical`) between two test images' latent means."""
        x_a, x_b = self.test.x[a], self.test.x[b]  # (C, H, W) each
        cond = {k: v[[a, b]] for k, v in self.test.cond.items()}  # each (2,)
        with self.lock:
            if mode == "linear":
                images = interpolate(self.run.model, x_a, x_b, steps, cond)  # (K, C, H, W)
            else:
                z = self.run.model.encode(torch.stack([x_a, x_b]), **cond)  # (2, D)
                t = torch.linspace(0, 1, steps, device=z.device, dtype=z.dtype).unsqueeze(1)  # (K, 1)
                path = slerp(z[0], z[1], t)  # (K, D)
                images = self.run.model.decode(path, **{k: v[:1].expand(steps) for k, v in cond.items()})
        return {**self.kind.path(self, images), "steps": steps, "mode": mode}

    def own_image(self, x: torch.Tensor, draws: int, seed: int, label: int | None) -> dict:
        """An image x (1, C, H, W) of the page's: its reconstruction, draws from q(z|x) decoded, its posterior mean
        (`latent_vector`) or code map (`codes`), and the nearest training images in pixel space (memorisation)."""
        x = x.to(self.run.device)
        distance = torch.cdist(x.flatten(1).cpu(), self.train_flat.cpu())[0]  # (N,)
        nearest = distance.topk(min(NUM_NEIGHBOURS, distance.numel()), largest=False).indices  # (k,)
        out = {
            "input": uri(x),
            "neighbours": uri(self.train.x[nearest], nrow=len(nearest), pad=1),
            "neighbour_indices": nearest.tolist(),
            "neighbour_distances": [round(float(d), 3) for d in distance[nearest]],
        }
        with self.lock, torch.no_grad():
            model = self.run.model
            if "latent_vector" in self.caps:
                cond = self.cond(label, 1)
                qz_x = model.posterior(x, **cond)
                g = torch.Generator(device=self.run.device).manual_seed(seed)
                z = qz_x.sample((draws,), generator=g)[:, 0]  # (S, 1, ...) -> (S, ...)
                out["draws"] = uri(model.likelihood(z, **self.cond(label, draws)).mean, nrow=draws, pad=1)
                out["reconstruction"] = uri(model.likelihood(qz_x.mean, **cond).mean)
                out["z"] = model.encode(x, **cond)[0].tolist()
            if "codes" in self.caps:
                codes = model.encode_codes(x)  # (1, h, w)
                out["codes"] = codes[0].tolist()
                out["reconstruction"] = uri(model.decode_codes(codes))
        return out

    # Uses of typed text (a sequence run).

    def own_text(self, text: str, neighbours: int, decoding: sequences.Decoding) -> dict:
        """A typed sentence encoded, decoded back, and its nearest training sentences (vaekit.explore.sequences)."""
        start = time.perf_counter()
        with self.lock, torch.no_grad():
            out = sequences.own_text(self, text, neighbours, decoding)
        return {**out, "ms": 1000 * (time.perf_counter() - start)}

    def interpolate_texts(self, a: str, b: str, steps: int, decoding: sequences.Decoding) -> dict:
        """The homotopy between two typed sentences (vaekit.explore.sequences)."""
        with self.lock, torch.no_grad():
            return sequences.interpolate_texts(self, a, b, steps, decoding)

    # Uses of a code map.

    def decode_codes(self, codes: torch.Tensor) -> dict:
        start = time.perf_counter()
        with self.lock:
            image = self.run.model.decode_codes(codes.to(self.run.device)[None])  # (1, C, H, W)
            out = uri(image)
        return {"image": out, "ms": 1000 * (time.perf_counter() - start)}

    @torch.no_grad()
    def resample_codes(self, codes: torch.Tensor, mask: torch.Tensor, seed: int) -> dict:
        """Redraw the masked positions of a code map (h, w) from the prior, in raster order, the others kept.

        Under the PixelCNN each masked position is drawn from p(c_ij | the codes above and to its left), which
        include the kept codes there (the ones below and to the right cannot be conditioned on by an
        autoregressive prior). Without a trained prior the codes are drawn uniformly.
        """
        model = self.run.model
        device = self.run.device
        g = torch.Generator(device=device).manual_seed(seed)
        codes = codes.to(device).clone()[None]  # (1, h, w)
        with self.lock:
            for i, j in mask.nonzero().tolist():  # raster order
                if model.prior_name == "pixelcnn":
                    logits = model.code_prior(codes[:, : i + 1])[0, :, i, j]  # (K,)
                    probs = torch.softmax(logits.float(), dim=0)
                else:
                    probs = torch.full((model.num_codes,), 1.0 / model.num_codes, device=device)
                codes[0, i, j] = torch.multinomial(probs, 1, generator=g)[0]
            image = model.decode_codes(codes)
        return {"codes": codes[0].tolist(), "image": uri(image), "prior": model.prior_name}


def image_to_tensor(image, shape: tuple[int, int, int], invert: bool) -> torch.Tensor:
    """A PIL image converted to the run's channels and resized to its (H, W): (1, C, H, W) floats in [0, 1]."""
    from PIL import Image

    channels, height, width = shape
    image = image.convert("L" if channels == 1 else "RGB").resize((width, height), Image.Resampling.BOX)
    array = np.asarray(image, dtype=np.float32) / 255.0  # (H, W) or (H, W, 3)
    if invert:
        array = 1.0 - array
    x = torch.from_numpy(array.copy())
    x = x[None] if channels == 1 else x.permute(2, 0, 1)  # (C, H, W)
    return x[None]


def finite(values: list[float]) -> bool:
    return all(math.isfinite(v) for v in values)
