"""Pure-Python reader of dlib's serialized DNNs (the `.dat` files of face_recognition_models).

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

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]

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
