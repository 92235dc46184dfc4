"""dlib's two shipped networks -> ONNX graphs (read by `dlib_format`), converted once and cached.

Affine layers are folded into the preceding convolution and channel counts padded to a multiple of
`CHANNEL_BLOCK`, so ONNX Runtime runs the graphs with its fast convolution kernels.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import onnx
from onnx import TensorProto, helper, numpy_helper

from visage.faces.inference.dlib_format import (
    MMOD_TOKENS,
    RESNET_TOKENS,
    Affine,
    Conv,
    Dense,
    DlibFormatError,
    DlibNetwork,
    Layer,
    Pool,
    Relu,
    Skip,
    Tag,
    parse_network,
)

logger = logging.getLogger(__name__)

ModelKind = Literal["embedder", "mmod"]


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


OPSET = 17
# Part of the cache key: bump when the graphs this module writes change.
CONVERTER_VERSION = 2


class _GraphBuilder:
    """Appends ONNX nodes while tracking each tensor's static (channels, rows, cols)."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._count = 0

    def name(self, stem: str) -> str:
        self._count += 1
        return f"{stem}_{self._count}"

    def constant(self, stem: str, value: npt.NDArray[np.generic]) -> str:
        name = self.name(stem)
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def node(self, op: str, inputs: list[str], **attributes: Any) -> str:
        output = self.name(op.lower())
        self.nodes.append(helper.make_node(op, inputs, [output], **attributes))
        return output


def _conv_output(size: int, kernel: int, stride: int, padding: int) -> int:
    return 1 + (size + 2 * padding - kernel) // stride


# MLAS's blocked (NCHWc) convolutions take channel counts in multiples of 8 on AVX2.
CHANNEL_BLOCK = 8


def _fold_affines(layers: list[Layer]) -> list[Layer]:
    """conv then affine -> one conv: W * gamma, b * gamma + beta (per output channel)."""
    folded: list[Layer] = []
    for layer in layers:
        previous = folded[-1] if folded else None
        if isinstance(layer, Affine) and isinstance(previous, Conv) and not previous.relu:
            bias = previous.bias if previous.bias is not None else np.zeros_like(layer.gamma)
            folded[-1] = replace(
                previous,
                weights=(previous.weights * layer.gamma[:, None, None, None]).astype(np.float32),
                bias=(bias * layer.gamma + layer.beta).astype(np.float32),
            )
        else:
            folded.append(layer)
    return folded


def _pad_channels(layers: list[Layer]) -> list[Layer]:
    """Give convs that feed (through relus) only another conv a multiple of CHANNEL_BLOCK
    filters: the extra filters are zero, so are their outputs, and the next conv gets zero
    weights for them - the same sums, on the fast blocked kernels."""
    padded = list(layers)
    for index, layer in enumerate(padded):
        if not isinstance(layer, Conv) or layer.weights.shape[0] % CHANNEL_BLOCK == 0:
            continue
        after = index + 1
        while after < len(padded) and isinstance(padded[after], Relu):
            after += 1
        consumer = padded[after] if after < len(padded) else None
        if not isinstance(consumer, Conv):
            continue
        extra = -layer.weights.shape[0] % CHANNEL_BLOCK
        bias = layer.bias if layer.bias is not None else np.zeros(layer.weights.shape[0])
        padded[index] = replace(
            layer,
            weights=np.pad(layer.weights, ((0, extra), (0, 0), (0, 0), (0, 0))),
            bias=np.pad(bias, (0, extra)).astype(np.float32),
        )
        padded[after] = replace(
            consumer, weights=np.pad(consumer.weights, ((0, 0), (0, extra), (0, 0), (0, 0)))
        )
    return padded


def _emit_layers(
    graph: _GraphBuilder,
    current: str,
    channels: int,
    size: tuple[int, int] | None,
    layers: list[Layer],
) -> str:
    """dlib layers -> ONNX nodes, tracking static shapes where the input size is fixed."""
    tagged: dict[int, tuple[str, int, tuple[int, int] | None]] = {}
    for layer in _pad_channels(_fold_affines(layers)):
        if isinstance(layer, Conv):
            weights = layer.weights
            bias = layer.bias if layer.bias is not None else np.zeros(weights.shape[0])
            kernel = weights.shape[2:]
            current = graph.node(
                "Conv",
                [
                    current,
                    graph.constant("w", weights.astype(np.float32)),
                    graph.constant("b", bias.astype(np.float32)),
                ],
                kernel_shape=list(kernel),
                strides=list(layer.stride),
                pads=[layer.padding[0], layer.padding[1], layer.padding[0], layer.padding[1]],
            )
            channels = weights.shape[0]
            if size is not None:
                size = (
                    _conv_output(size[0], kernel[0], layer.stride[0], layer.padding[0]),
                    _conv_output(size[1], kernel[1], layer.stride[1], layer.padding[1]),
                )
            if layer.relu:
                current = graph.node("Relu", [current])
        elif isinstance(layer, Affine):
            shape = (1, -1, 1, 1)
            current = graph.node("Mul", [current, graph.constant("g", layer.gamma.reshape(shape))])
            current = graph.node("Add", [current, graph.constant("b", layer.beta.reshape(shape))])
        elif isinstance(layer, Relu):
            current = graph.node("Relu", [current])
        elif isinstance(layer, Pool):
            current, size = _emit_pool(graph, current, size, layer)
        elif isinstance(layer, Dense):
            current = graph.node("Flatten", [current], axis=1)
            current = graph.node("MatMul", [current, graph.constant("w", layer.weights)])
            if layer.bias is not None:
                current = graph.node("Add", [current, graph.constant("b", layer.bias)])
            channels, size = layer.weights.shape[1], (1, 1)
        elif isinstance(layer, Tag):
            tagged[layer.tag] = (current, channels, size)
        elif isinstance(layer, Skip):
            current, channels, size = tagged[layer.tag]
        else:
            current, channels, size = _emit_add_prev(
                graph, (current, channels, size), tagged[layer.tag]
            )
    return current


def _emit_pool(
    graph: _GraphBuilder, current: str, size: tuple[int, int] | None, layer: Pool
) -> tuple[str, tuple[int, int] | None]:
    if layer.padding != (0, 0):
        raise DlibFormatError("padded pooling layers are not supported")
    if layer.window == (0, 0):
        op = "GlobalMaxPool" if layer.kind == "max" else "GlobalAveragePool"
        return graph.node(op, [current]), (1, 1)
    op = "MaxPool" if layer.kind == "max" else "AveragePool"
    output = graph.node(op, [current], kernel_shape=list(layer.window), strides=list(layer.stride))
    if size is not None:
        size = (
            _conv_output(size[0], layer.window[0], layer.stride[0], 0),
            _conv_output(size[1], layer.window[1], layer.stride[1], 0),
        )
    return output, size


def _emit_add_prev(
    graph: _GraphBuilder,
    first: tuple[str, int, tuple[int, int] | None],
    second: tuple[str, int, tuple[int, int] | None],
) -> tuple[str, int, tuple[int, int] | None]:
    """dlib's add_prev: the sum has the larger of each dimension, the smaller one zero-padded."""
    if first[2] is None or second[2] is None:
        if first[1:] != second[1:]:
            raise DlibFormatError("add_prev of different shapes needs static shapes")
        return graph.node("Add", [first[0], second[0]]), first[1], first[2]
    channels = max(first[1], second[1])
    size = (max(first[2][0], second[2][0]), max(first[2][1], second[2][1]))
    operands = []
    for operand, own_channels, own_size in (first, second):
        assert own_size is not None
        missing = [channels - own_channels, size[0] - own_size[0], size[1] - own_size[1]]
        if any(missing):
            pads = graph.constant("pads", np.array([0, 0, 0, 0, 0, *missing], dtype=np.int64))
            operands.append(graph.node("Pad", [operand, pads]))
        else:
            operands.append(operand)
    return graph.node("Add", operands), channels, size


def _model(
    graph: _GraphBuilder,
    inputs: list[onnx.ValueInfoProto],
    output: str,
    output_info: onnx.ValueInfoProto,
    name: str,
) -> onnx.ModelProto:
    graph.nodes.append(helper.make_node("Identity", [output], [output_info.name]))
    model = helper.make_model(
        helper.make_graph(graph.nodes, name, inputs, [output_info], graph.initializers),
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="visage.dlib_convert",
    )
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def embedder_model(network: DlibNetwork) -> onnx.ModelProto:
    """uint8 chips N x rows x cols x 3 (RGB) -> N x 128 embeddings."""
    if network.input.kind != "rgb_image_sized" or network.input.size is None:
        raise DlibFormatError("the embedder takes fixed-size RGB chips")
    rows, cols = network.input.size
    graph = _GraphBuilder()
    pixels = graph.node("Cast", ["chips"], to=TensorProto.FLOAT)
    planes = graph.node("Transpose", [pixels], perm=[0, 3, 1, 2])
    mean = np.array(network.input.mean_rgb, dtype=np.float32).reshape(1, 3, 1, 1)
    # dlib's input layer: (pixel - mean) / 256
    centred = graph.node("Sub", [planes, graph.constant("mean", mean)])
    scaled = graph.node(
        "Mul", [centred, graph.constant("scale", np.array(1 / 256, dtype=np.float32))]
    )
    output = _emit_layers(graph, scaled, 3, (rows, cols), network.layers)
    dense = next(layer for layer in reversed(network.layers) if isinstance(layer, Dense))
    return _model(
        graph,
        [helper.make_tensor_value_info("chips", TensorProto.UINT8, ["n", rows, cols, 3])],
        output,
        helper.make_tensor_value_info(
            "embeddings", TensorProto.FLOAT, ["n", dense.weights.shape[1]]
        ),
        "dlib_face_recognition_resnet",
    )


def mmod_model(network: DlibNetwork) -> onnx.ModelProto:
    """Normalized tiled pyramid N x 3 x H x W -> detector scores N x windows x h x w."""
    if network.mmod is None or network.input.kind != "rgb_image_pyramid":
        raise DlibFormatError("not an MMOD network on an RGB image pyramid")
    if network.mmod.use_bounding_box_regression:
        raise DlibFormatError("MMOD bounding-box regression is not supported")
    graph = _GraphBuilder()
    output = _emit_layers(graph, "pyramid", 3, None, network.layers)
    return _model(
        graph,
        [helper.make_tensor_value_info("pyramid", TensorProto.FLOAT, ["n", 3, "h", "w"])],
        output,
        helper.make_tensor_value_info(
            "scores", TensorProto.FLOAT, ["n", len(network.mmod.windows), "oh", "ow"]
        ),
        "dlib_mmod_face_detector",
    )


def _output_to_input(layers: list[Layer]) -> tuple[float, float]:
    """(scale, offset) with input = scale * output + offset, per dlib's map_output_to_input."""
    scale, offset = 1.0, 0.0
    for layer in reversed(layers):  # from the output back to the input
        if isinstance(layer, Conv):
            kernel, stride, padding = layer.weights.shape[3], layer.stride[1], layer.padding[1]
        elif isinstance(layer, Pool):
            kernel, stride, padding = layer.window[1], layer.stride[1], layer.padding[1]
        else:
            continue
        # p -> p * stride - padding + kernel // 2
        scale, offset = scale * stride, offset * stride - padding + kernel // 2
    return scale, offset


def _mmod_metadata(network: DlibNetwork) -> dict[str, object]:
    assert network.mmod is not None
    scale, offset = _output_to_input(network.layers)
    return {
        "mean_rgb": list(network.input.mean_rgb),
        "pyramid_padding": network.input.pyramid_padding,
        "pyramid_outer_padding": network.input.pyramid_outer_padding,
        "pyramid_rate": 5 / 6,  # input_rgb_image_pyramid<pyramid_down<6>>
        "windows": network.mmod.windows,
        "nms_iou_threshold": network.mmod.nms_iou_threshold,
        "nms_percent_covered_threshold": network.mmod.nms_percent_covered_threshold,
        "output_to_input": [scale, offset],
    }


@dataclass(frozen=True)
class _Source:
    kind: ModelKind
    stem: str
    tokens: list[str]
    build: Callable[[DlibNetwork], onnx.ModelProto]


_SOURCES = {
    "embedder": _Source(
        "embedder", "dlib_face_recognition_resnet_model_v1", RESNET_TOKENS, embedder_model
    ),
    "mmod": _Source("mmod", "mmod_human_face_detector", MMOD_TOKENS, mmod_model),
}


def source_path(kind: ModelKind) -> Path:
    import face_recognition_models

    return Path(face_recognition_models.__file__).parent / "models" / f"{_SOURCES[kind].stem}.dat"


def convert(source: Path, kind: ModelKind) -> onnx.ModelProto:
    spec = _SOURCES[kind]
    network = parse_network(source.read_bytes(), spec.tokens)
    model = spec.build(network)
    if kind == "mmod":
        helper.set_model_props(model, {"dlib_mmod": json.dumps(_mmod_metadata(network))})
    return model


def converted_model(models_dir: Path, kind: ModelKind) -> Path:
    """The ONNX file for a shipped dlib network, converted once and cached by source hash."""
    source = source_path(kind)
    target = models_dir / f"{_SOURCES[kind].stem}-{file_digest(source)}-v{CONVERTER_VERSION}.onnx"
    if target.exists():
        return target
    models_dir.mkdir(parents=True, exist_ok=True)
    logger.info("Converting %s to ONNX (once, a few seconds) -> %s", source.name, target)
    partial = target.with_suffix(f".{os.getpid()}.partial")
    onnx.save_model(convert(source, kind), str(partial))
    partial.replace(target)  # atomic: concurrent starters never read half a file
    return target
