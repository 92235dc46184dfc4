"""What several enrollment photos and several kiosk frames do to both error rates.

For a probe photo and templates of a person, the distance is measured one way per strategy;
genuine: templates of the probe's own person, impostor: templates of someone else, so a
strategy that lowers genuine distances only by pulling everyone closer shows it in FMR.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Embeddings = npt.NDArray[np.float64]
IMPOSTOR_SAMPLES = 50_000
SEED = 20261201  # the figures in the shipped file are reproducible


def _strategy_distances(
    probes: Embeddings, templates: Embeddings, strategy: str
) -> npt.NDArray[np.float64]:
    """probes: (n, k_probe, 128), templates: (n, k_template, 128) -> (n,) distances."""
    probe = probes.mean(axis=1) if strategy == "fused_frames" else probes[:, 0]
    if strategy == "fused_templates":
        fused = np.linalg.norm(templates.mean(axis=1) - probe, axis=1)
        return np.asarray(fused, dtype=np.float64)
    gaps = np.linalg.norm(templates - probe[:, None, :], axis=2)
    chosen = gaps.min(axis=1) if strategy == "nearest_template" else gaps[:, 0]
    return np.asarray(chosen, dtype=np.float64)


STRATEGIES = {
    # name: (probe photos, template photos)
    "one_template": (1, 1),
    "nearest_template": (1, 2),
    "fused_templates": (1, 2),
    "fused_frames": (2, 1),
}


def strategy_rates(
    embeddings: Embeddings, labels: npt.NDArray[np.str_], distances: list[float]
) -> dict[str, dict[str, object]]:
    """FNMR and FMR at each distance for each strategy, on people with 3+ photos."""
    rng = np.random.default_rng(SEED)
    people = [np.flatnonzero(labels == person) for person in np.unique(labels)]
    rich = [photos for photos in people if len(photos) >= 3]
    results: dict[str, dict[str, object]] = {}
    for name, (probe_count, template_count) in STRATEGIES.items():
        genuine_probes, genuine_templates = [], []
        for photos in rich:
            order = rng.permutation(photos)
            genuine_probes.append(embeddings[order[:probe_count]])
            genuine_templates.append(embeddings[order[probe_count : probe_count + template_count]])
        owners = rng.integers(0, len(rich), size=(IMPOSTOR_SAMPLES, 2))
        owners = owners[owners[:, 0] != owners[:, 1]]
        impostor_probes = np.stack(
            [embeddings[rng.permutation(rich[o])[:probe_count]] for o in owners[:, 0]]
        )
        impostor_templates = np.stack(
            [embeddings[rng.permutation(rich[o])[:template_count]] for o in owners[:, 1]]
        )
        genuine = _strategy_distances(np.stack(genuine_probes), np.stack(genuine_templates), name)
        impostor = _strategy_distances(impostor_probes, impostor_templates, name)
        results[name] = {
            "probe_photos": probe_count,
            "template_photos": template_count,
            "genuine_trials": int(genuine.size),
            "impostor_trials": int(impostor.size),
            "genuine_mean": round(float(genuine.mean()), 4),
            "at": [
                {
                    "distance": round(distance, 4),
                    "fnmr": round(float((genuine > distance).mean()), 4),
                    "fmr": float(f"{(impostor <= distance).mean():.3g}"),
                }
                for distance in distances
            ],
        }
    return results
