"""Pure-Python converter: dlib's serialized DNNs (the `.dat` files) -> ONNX graphs.

The byte layout follows dlib's own C++ source (dlib 20.0): `serialize.h` (variable-length
integers: one control byte = size | 0x80 when negative, then little-endian bytes; strings =
length + bytes; bools = '0'/'1'), `float_details.h` (a float = int64 mantissa + int16 exponent),
`cuda/tensor.h` (a tensor = version 2, four dimensions, raw little-endian float32s; an
alias_tensor = version 1 and four dimensions), `dnn/core.h` (a network is serialized from the
loss layer inwards: every wrapper writes its version, then its sub-network, then - on the way
back out - its layer details and cached state), `dnn/layers.h`, `dnn/input.h`, `dnn/loss.h`.

The stream is not self-describing (a tag and a skip layer both write only "version 1"), so the
layer templates of the two shipped networks are spelled out below, exactly as in dlib's
`dnn_face_recognition_ex.cpp` and `dnn_mmod_face_detection_ex.cpp`. A file that does not match
them fails loudly; the parse must also consume the file to its last byte.
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

FloatArray = npt.NDArray[np.float32]
logger = logging.getLogger(__name__)

# float_details: exponent values that stand for +inf, -inf and NaN.
_IS_INF, _IS_NINF, _IS_NAN = 32000, 32001, 32002


class DlibFormatError(ValueError):
    """The file is not the dlib network this converter expects."""


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def integer(self) -> int:
        control = self.data[self.pos]
        size = control & 0x0F
        if size == 0 or size > 8:
            raise DlibFormatError(f"bad integer control byte {control:#x} at {self.pos}")
        start = self.pos + 1
        value = int.from_bytes(self.data[start : start + size], "little")
        self.pos = start + size
        return -value if control & 0x80 else value

    def version(self, expected: tuple[int, ...], what: str) -> int:
        value = self.integer()
        if value not in expected:
            raise DlibFormatError(f"{what}: version {value}, expected one of {expected}")
        return value

    def real(self) -> float:
        if self.data[self.pos] & 0x70:
            raise DlibFormatError("old ASCII float encoding is not supported")
        mantissa = self.integer()
        exponent = self.integer()
        if exponent == _IS_INF:
            return float("inf")
        if exponent == _IS_NINF:
            return float("-inf")
        if exponent == _IS_NAN:
            return float("nan")
        return float(np.ldexp(float(mantissa), exponent))

    def string(self) -> str:
        length = self.integer()
        text = self.data[self.pos : self.pos + length].decode("ascii")
        self.pos += length
        return text

    def boolean(self) -> bool:
        char = self.data[self.pos : self.pos + 1]
        if char not in {b"0", b"1"}:
            raise DlibFormatError(f"bad bool {char!r} at {self.pos}")
        self.pos += 1
        return char == b"1"

    def tensor(self) -> FloatArray:
        self.version((2,), "tensor")
        shape = tuple(self.integer() for _ in range(4))
        count = int(np.prod(shape))
        values = np.frombuffer(self.data, dtype="<f4", count=count, offset=self.pos)
        self.pos += 4 * count
        return values.astype(np.float32).reshape(shape)

    def alias_tensor(self) -> tuple[int, int, int, int]:
        self.version((1,), "alias_tensor")
        n, k, nr, nc = (self.integer() for _ in range(4))
        return n, k, nr, nc

    def expect_end(self) -> None:
        if self.pos != len(self.data):
            raise DlibFormatError(f"{len(self.data) - self.pos} bytes left after the network")


# --- the layers the two networks use ---------------------------------------------------------


@dataclass(frozen=True)
class Conv:
    weights: FloatArray  # filters x channels x rows x cols (cross-correlation, like ONNX)
    bias: FloatArray | None
    stride: tuple[int, int]
    padding: tuple[int, int]
    relu: bool = False  # con_6 can fuse a relu


@dataclass(frozen=True)
class Affine:
    """Per-channel y = gamma * x + beta (batch norm folded, as dlib's affine_ does)."""

    gamma: FloatArray
    beta: FloatArray


@dataclass(frozen=True)
class Relu:
    pass


@dataclass(frozen=True)
class Pool:
    kind: Literal["max", "avg"]
    window: tuple[int, int]  # (0, 0) = the whole image
    stride: tuple[int, int]
    padding: tuple[int, int]


@dataclass(frozen=True)
class Dense:
    weights: FloatArray  # inputs x outputs (dlib multiplies row vectors)
    bias: FloatArray | None


@dataclass(frozen=True)
class AddPrev:
    tag: int


@dataclass(frozen=True)
class Tag:
    tag: int


@dataclass(frozen=True)
class Skip:
    tag: int


Layer = Conv | Affine | Relu | Pool | Dense | AddPrev | Tag | Skip


@dataclass(frozen=True)
class InputSpec:
    kind: Literal["rgb_image_sized", "rgb_image_pyramid"]
    mean_rgb: tuple[float, float, float]
    size: tuple[int, int] | None = None  # rows, cols of a sized input
    pyramid_padding: int = 10
    pyramid_outer_padding: int = 11


@dataclass(frozen=True)
class MmodOptions:
    windows: list[tuple[int, int]]  # detector window (width, height) per output channel
    nms_iou_threshold: float
    nms_percent_covered_threshold: float
    use_bounding_box_regression: bool


@dataclass
class DlibNetwork:
    input: InputSpec
    layers: list[Layer]  # input -> output order
    loss: Literal["metric", "mmod"]
    mmod: MmodOptions | None = None


def _split_params(params: FloatArray, *shapes: tuple[int, ...]) -> list[FloatArray]:
    flat = params.reshape(-1)
    parts, offset = [], 0
    for shape in shapes:
        size = int(np.prod(shape))
        parts.append(flat[offset : offset + size].reshape(shape))
        offset += size
    return parts


def _skip_multipliers(reader: _Reader, count: int) -> None:
    for _ in range(count):  # learning-rate / weight-decay multipliers: training only
        reader.real()


def _read_con(reader: _Reader, version: str) -> Conv:
    if version not in {"con_4", "con_5", "con_6"}:
        raise DlibFormatError(f"unsupported conv version {version}")
    params = reader.tensor()
    reader.integer()  # num_filters (the alias tensors carry it too)
    reader.integer()  # rows
    reader.integer()  # cols
    stride = (reader.integer(), reader.integer())
    padding = (reader.integer(), reader.integer())
    filters = reader.alias_tensor()
    biases = reader.alias_tensor()
    _skip_multipliers(reader, 4)
    use_bias = reader.boolean() if version in {"con_5", "con_6"} else True
    use_relu = reader.boolean() if version == "con_6" else False
    weights, bias = _split_params(params, filters, (biases[1],))
    return Conv(weights, bias if use_bias else None, stride, padding, use_relu)


def _read_affine(reader: _Reader, version: str) -> Affine:
    if version == "bn_con2":
        # affine_(const bn_&): gamma / sqrt(running_variance + eps), beta - gamma' * mean,
        # computed in float as dlib does.
        params = reader.tensor()
        gamma_shape = reader.alias_tensor()
        reader.alias_tensor()  # beta, same shape
        reader.tensor()  # means of the last training batch
        reader.tensor()  # invstds of the last training batch
        running_means = reader.tensor().reshape(-1)
        running_variances = reader.tensor().reshape(-1)
        reader.integer()  # num_updates
        reader.integer()  # running_stats_window_size
        _skip_multipliers(reader, 4)
        eps = np.float32(reader.real())
        channels = int(np.prod(gamma_shape))
        gamma, beta = _split_params(params, (channels,), (channels,))
        scale = (gamma / np.sqrt(running_variances + eps)).astype(np.float32)
        return Affine(scale, (beta - scale * running_means).astype(np.float32))
    if version in {"affine_", "affine_2"}:
        params = reader.tensor()
        gamma_shape = reader.alias_tensor()
        reader.alias_tensor()
        reader.integer()  # mode (conv / fc): per channel either way for our 4-d tensors
        disabled = reader.boolean() if version == "affine_2" else False
        if disabled:
            raise DlibFormatError("disabled affine layers are not supported")
        channels = int(np.prod(gamma_shape))
        gamma, beta = _split_params(params, (channels,), (channels,))
        return Affine(gamma, beta)
    raise DlibFormatError(f"unsupported affine/batch-norm version {version}")


def _read_relu(reader: _Reader, version: str) -> Relu:
    if version == "relu_2" and reader.boolean():
        raise DlibFormatError("disabled relu layers are not supported")
    if version not in {"relu_", "relu_2"}:
        raise DlibFormatError(f"unsupported relu version {version}")
    return Relu()


def _read_pool(reader: _Reader, version: str) -> Pool:
    if version not in {"max_pool_2", "avg_pool_2"}:
        raise DlibFormatError(f"unsupported pooling version {version}")
    window = (reader.integer(), reader.integer())
    stride = (reader.integer(), reader.integer())
    padding = (reader.integer(), reader.integer())
    return Pool("max" if version.startswith("max") else "avg", window, stride, padding)


def _read_fc(reader: _Reader, version: str) -> Dense:
    if version not in {"fc_2", "fc_3"}:
        raise DlibFormatError(f"unsupported fc version {version}")
    outputs = reader.integer()
    inputs = reader.integer()
    params = reader.tensor()
    weights_shape = reader.alias_tensor()
    reader.alias_tensor()  # biases
    has_bias = reader.integer() == 0  # fc_bias_mode: FC_HAS_BIAS = 0, FC_NO_BIAS = 1
    _skip_multipliers(reader, 4)
    if version == "fc_3":
        has_bias = reader.boolean() and has_bias
    if weights_shape[:2] != (inputs, outputs):
        raise DlibFormatError(f"fc weights {weights_shape} for {inputs} -> {outputs}")
    if not has_bias:
        return Dense(_split_params(params, (inputs, outputs))[0], None)
    weights, bias = _split_params(params, (inputs, outputs), (outputs,))
    return Dense(weights, bias)


_DETAIL_READERS: dict[str, Callable[[_Reader, str], Layer]] = {
    "con_": _read_con,
    "bn_con": _read_affine,
    "affine_": _read_affine,
    "relu_": _read_relu,
    "max_pool_": _read_pool,
    "avg_pool_": _read_pool,
    "fc_": _read_fc,
}


def _read_details(reader: _Reader) -> Layer | str:
    version = reader.string()
    if version == "add_prev_":
        return version
    for prefix, read in _DETAIL_READERS.items():
        if version.startswith(prefix):
            return read(reader, version)
    raise DlibFormatError(f"unsupported layer '{version}'")


def _read_input(reader: _Reader) -> InputSpec:
    version = reader.string()
    mean_rgb = (reader.real(), reader.real(), reader.real())
    if version == "input_rgb_image_sized":
        return InputSpec("rgb_image_sized", mean_rgb, size=(reader.integer(), reader.integer()))
    if version == "input_rgb_image_pyramid2":
        return InputSpec(
            "rgb_image_pyramid",
            mean_rgb,
            pyramid_padding=reader.integer(),
            pyramid_outer_padding=reader.integer(),
        )
    if version == "input_rgb_image_pyramid":
        return InputSpec("rgb_image_pyramid", mean_rgb)
    raise DlibFormatError(f"unsupported input layer '{version}'")


def _read_layer_state(reader: _Reader, *, input_layer: bool) -> None:
    """add_layer's bookkeeping after its details: flags and cached training tensors."""
    reader.boolean()  # this_layer_setup_called
    reader.boolean()  # gradient_input_is_stale
    reader.boolean()  # get_output_and_gradient_input_disabled
    reader.tensor()  # x_grad
    reader.tensor()  # cached_output
    reader.tensor()  # params_grad (grad_final for the layer on the input)
    if input_layer:
        reader.integer()  # _sample_expansion_factor


# Network templates as tokens in input -> output order: "layer" is an add_layer whose details
# name themselves; tagN / skipN / add_prevN carry the tag id the stream leaves out.


# block<N,BN,stride,SUBNET> = BN<con<N,3,3,1,1,relu<BN<con<N,3,3,stride,stride,SUBNET>>>>>
_RESNET_BLOCK = ["layer"] * 5


def _ares() -> list[str]:
    # ares = relu<add_prev1<block<N,affine,1,tag1<SUBNET>>>>
    return ["tag1", *_RESNET_BLOCK, "add_prev1", "layer"]


def _ares_down() -> list[str]:
    # ares_down = relu<add_prev2<avg_pool<2,2,2,2,skip1<tag2<block<N,affine,2,tag1<SUBNET>>>>>>>
    return ["tag1", *_RESNET_BLOCK, "tag2", "skip1", "layer", "add_prev2", "layer"]


RESNET_TOKENS: list[str] = [
    "layer",  # con<32,7,7,2,2> on input_rgb_image_sized<150>
    "layer",  # affine
    "layer",  # relu
    "layer",  # max_pool<3,3,2,2>
    *(_ares() * 3),  # alevel4: 32 filters
    *_ares_down(),
    *(_ares() * 3),  # alevel3: 64
    *_ares_down(),
    *(_ares() * 2),  # alevel2: 128
    *_ares_down(),
    *(_ares() * 2),  # alevel1: 256
    *_ares_down(),  # alevel0: 256
    "layer",  # avg_pool_everything
    "layer",  # fc_no_bias<128>
]

MMOD_TOKENS: list[str] = [
    *(["layer"] * 9),  # downsampler: 3 x relu<affine<con5d>>
    *(["layer"] * 9),  # 3 x rcon5 = relu<affine<con5<45>>>
    "layer",  # con<1,9,9,1,1>
]


def _read_loss(reader: _Reader) -> tuple[Literal["metric", "mmod"], MmodOptions | None]:
    reader.version((1,), "add_loss_layer")
    version = reader.string()
    if version == "loss_metric_2":
        reader.real()  # margin (training)
        reader.real()  # distance threshold (training)
        return "metric", None
    if version == "loss_metric_":
        return "metric", None
    if version != "loss_mmod_":
        raise DlibFormatError(f"unsupported loss '{version}'")
    options_version = reader.version((1, 2, 3, 4), "mmod_options")
    if options_version == 1:
        windows = [(reader.integer(), reader.integer())]
    else:
        windows = []
        for _ in range(reader.integer()):
            window_version = reader.version((1, 2), "detector_window_details")
            windows.append((reader.integer(), reader.integer()))
            if window_version == 2:
                reader.string()  # label
    for _ in range(3):  # loss per false alarm / per miss, truth match IoU: training only
        reader.real()
    nms_iou, nms_covered = reader.real(), reader.real()
    reader.real()  # overlaps_ignore: training only
    reader.real()
    if options_version >= 3 and reader.integer() != 1:  # assume_image_pyramid
        raise DlibFormatError("MMOD models without an image pyramid are not supported")
    use_bbr = False
    if options_version >= 4:
        use_bbr = reader.boolean()
        reader.real()  # bbr_lambda
    return "mmod", MmodOptions(windows, nms_iou, nms_covered, use_bbr)


def parse_network(data: bytes, tokens: list[str]) -> DlibNetwork:
    """Read a serialized `add_loss_layer<..., tokens...>` network."""
    try:
        return _parse(_Reader(data), tokens)
    except (IndexError, UnicodeDecodeError, ValueError) as error:
        if isinstance(error, DlibFormatError):
            raise
        raise DlibFormatError(f"not the expected dlib network: {error}") from error


def _parse(reader: _Reader, tokens: list[str]) -> DlibNetwork:
    loss, mmod = _read_loss(reader)
    # Versions on the way in, outermost first; the add_layer on the input writes 3 (or 2).
    for index, token in enumerate(reversed(tokens)):
        innermost = index == len(tokens) - 1
        if token.startswith(("tag", "skip")):
            reader.version((1,), token)
        elif innermost:
            reader.version((2, 3), "add_layer on the input")
        else:
            reader.version((2,), "add_layer")
    network_input = _read_input(reader)
    layers: list[Layer] = []
    for index, token in enumerate(tokens):
        if token.startswith("tag"):
            layers.append(Tag(int(token[3:])))
            continue
        if token.startswith("skip"):
            layers.append(Skip(int(token[4:])))
            continue
        details = _read_details(reader)
        if token.startswith("add_prev"):
            if details != "add_prev_":
                raise DlibFormatError(f"expected add_prev_, found {details}")
            layers.append(AddPrev(int(token[8:])))
        elif isinstance(details, str):
            raise DlibFormatError(f"unexpected {details} where a layer was expected")
        else:
            layers.append(details)
        _read_layer_state(reader, input_layer=index == 0)
    reader.expect_end()
    return DlibNetwork(network_input, layers, loss, mmod)


ModelKind = Literal["embedder", "mmod"]


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


# --- ONNX graphs -----------------------------------------------------------------------------

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
