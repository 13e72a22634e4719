"""Configuration of ``rnce-bag train`` (``configs/ssl/*.yaml``).

One model serves every method: ``method`` only changes the loss. Widths, depth,
resolution and schedule scale from the CPU presets (``tiny``, ``demo``) to the
paper's GPU configuration (``paper``).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_serializer, model_validator

from rnce_bag.core.config import StrictModel
from rnce_bag.ssl.methods import check_name, get

#: a registered method's name (:mod:`rnce_bag.ssl.methods`)
Method = Annotated[str, AfterValidator(check_name)]


class DataConfig(StrictModel):
    """Images on the MNI grid and how batches are drawn."""

    spacing_mm: float = Field(4.0, gt=0, le=8, description="grid spacing of the patches")
    patch_layout: str | None = Field(None, description="patch layout YAML (default: 18 "
                                                       "anatomical patches)")
    batch_size: int = Field(16, ge=4, description="subjects per step (both views)")
    num_workers: int = Field(0, ge=0)
    train_filter: dict[str, list[str]] = Field(
        default_factory=dict, description="manifest column -> allowed values for training "
                                          "subjects (empty: all subjects)")


class EncoderConfig(StrictModel):
    """Per-patch 3D CNN."""

    width: int = Field(8, ge=1, description="channels of the first stage (doubles per "
                                            "stage up to max_width)")
    max_width: int = Field(32, ge=1)
    n_layers: int = Field(13, ge=2, description="3x3x3 convolutions")
    n_stages: int = Field(4, ge=1, description="stride-2 downsamplings")
    norm: Literal["group", "instance", "none"] = Field(
        "none", description="normalisation after each convolution. 'none' by default: the "
        "images are already intensity-normalised per subject (robust percentiles), and a "
        "per-sample norm (group/instance) standardises each patch's feature maps, which "
        "removes its tissue composition (grey/white/CSF proportions), the very thing "
        "atrophy changes")
    out_dim: int = Field(64, ge=2)
    stack: Literal["auto", "loop", "grouped"] = Field(
        "auto", description="run the 18 encoders as a Python loop (fastest on CPU) or as "
                            "one grouped convolution (GPU); auto picks by device")


class AggregatorConfig(StrictModel):
    """Transformer over the patch vectors."""

    n_layers: int = Field(3, ge=1)
    n_heads: int = Field(2, ge=1)
    ff_mult: int = Field(2, ge=1)
    dropout: float = Field(0.0, ge=0, lt=1)
    pool: Literal["cls", "mean"] = "cls"


class LossConfig(StrictModel):
    """Loss weights; see :mod:`rnce_bag.ssl.losses`."""

    tau: float = Field(0.1, gt=0, description="NT-Xent temperature")
    alpha: float = Field(1.0, ge=0, description="weight of the reconstruction term (R-NCE)")
    ridge: float = Field(1e-3, gt=0, description="ridge of the projections, relative to the "
                                                  "mean eigenvalue of the Gram matrix")
    aux_variance: float = Field(0.95, gt=0, le=1, description="each auxiliary set (a patch's "
                                "regional features, all features for the image) is replaced by "
                                "its fewest principal components holding this fraction of its "
                                "variance on the training subjects (1.0: the whole span)")
    max_aux_dim: int | None = Field(None, ge=1, description="and by at most this many "
                                    "components (none: no cap; small CPU batches need one)")
    barlow_lambda: float = Field(5e-3, gt=0, description="Barlow Twins off-diagonal weight")
    head_dims: list[int] = Field(default_factory=list, description="projection head "
                                 "(hidden..., out) for the methods that use one (simclr, "
                                 "barlow); empty: the representation itself")


class AugmentConfig(StrictModel):
    """MRI-realistic augmentations (batched tensor ops, see :mod:`rnce_bag.ssl.augment`).

    Either ``scanner`` names a physical model of scan-to-scan variation
    (:mod:`rnce_bag.ssl.scanner_model`: 'typical' or 'wide', published magnitudes in
    physical units) and the ranges follow from it and the training grid
    (:meth:`resolved`), or the ranges are given in training-grid units, not both.
    """

    scanner: Literal["typical", "wide"] | None = Field(
        None, description="physical scanner model the ranges are derived from "
                          "(rnce_bag.ssl.scanner_model); none: the ranges below as given")
    rotate_deg: float = Field(5.0, ge=0)
    scale: float = Field(0.05, ge=0, lt=0.5)
    translate_vox: float = Field(2.0, ge=0)
    bias_field: float = Field(0.3, ge=0, description="3 x the SD of the log bias-field "
                              "coefficients")
    gamma: float = Field(0.3, ge=0, description="SD of log gamma")
    noise: float = Field(0.03, ge=0, description="maximal Gaussian noise SD")
    blur_sigma: float = Field(1.0, ge=0, description="maximal blur (voxels)")

    @model_validator(mode="after")
    def _either(self) -> AugmentConfig:
        explicit = sorted(self.model_fields_set - {"scanner"})
        if self.scanner is not None and explicit:
            raise ValueError(f"augment.scanner '{self.scanner}' derives every range from the "
                             "physical model; remove "
                             + ", ".join(f"augment.{k}" for k in explicit)
                             + " or remove augment.scanner")
        return self

    @model_serializer(mode="wrap")
    def _dump(self, handler):
        # a scanner model is stored as its name: the ranges are derived, not settings
        if self.scanner is not None:
            return {"scanner": self.scanner}
        out = handler(self)
        out.pop("scanner", None)  # runs without a scanner model dump as they always did
        return out

    def resolved(self, spacing_mm: float, patch_mm: float) -> AugmentConfig:
        """The ranges in training-grid units (itself when no scanner model is named)."""
        if self.scanner is None:
            return self
        from rnce_bag.ssl.scanner_model import augment_ranges

        return AugmentConfig(**augment_ranges(self.scanner, spacing_mm, patch_mm))


class StageConfig(StrictModel):
    """Optimisation of one stage."""

    epochs: float = Field(1.0, gt=0)
    max_steps: int | None = Field(None, ge=1, description="cap on the number of steps")
    lr: float = Field(1e-3, gt=0)
    weight_decay: float = Field(1e-4, ge=0)
    warmup_fraction: float = Field(0.05, ge=0, lt=1)
    grad_clip: float = Field(1.0, gt=0)
    batch_size: int | None = Field(None, ge=4, description="subjects per step in this stage "
                                   "(default data.batch_size). Stage 2 is cheap (frozen "
                                   "encoders): a batch larger than the representation size "
                                   "makes the image-level reconstruction term informative")


class SSLConfig(StrictModel):
    """Everything ``rnce-bag train`` needs besides the data paths."""

    method: Method = "rnce"
    seed: int = 0
    device: Literal["auto", "cpu", "cuda"] = "auto"
    amp: bool = Field(True, description="bfloat16 autocast on CUDA (ignored on CPU)")
    checkpoint_every: int = Field(50, ge=1, description="steps between checkpoints")
    threads: int | None = Field(None, ge=1, description="torch CPU threads")
    data: DataConfig = DataConfig()
    encoder: EncoderConfig = EncoderConfig()
    aggregator: AggregatorConfig = AggregatorConfig()
    loss: LossConfig = LossConfig()
    augment: AugmentConfig = AugmentConfig()
    stage1: StageConfig = StageConfig()
    stage2: StageConfig = StageConfig()

    def batch_size(self, stage: int) -> int:
        """Subjects per step of ``stage`` (1 or 2)."""
        own = (self.stage1 if stage == 1 else self.stage2).batch_size
        return own or self.data.batch_size

    def aux_dims(self, fitted: dict[int, int] | None = None) -> dict[int, int] | None:
        """Auxiliary dimensions per stage: the fitted ones, else the cap (None: unknown)."""
        if fitted is not None:
            return fitted
        p = self.loss.max_aux_dim
        return None if p is None else {1: p, 2: p}

    def rnce_warnings(self, fitted: dict[int, int] | None = None) -> list[str]:
        """Settings under which R-NCE's terms lose what they are for (empty when none).

        Per stage with batch ``B``, representation size ``d`` and ``p`` auxiliary
        dimensions (``fitted`` per stage once the sets are fitted, else the cap
        ``loss.max_aux_dim``; nothing to say when neither is known): with ``B <= d + p``
        any full-rank representation spans the centred batch together with the features,
        so the reconstruction term is informative only through the ridge, and the
        in-batch projection, which removes ``p`` of the ``B - 1`` dimensions of each
        centred batch, leaves the residual fewer dimensions than the representation has.
        """
        dims = self.aux_dims(fitted)
        if not get(self.method).uses_auxiliary or dims is None:
            return []
        d = self.encoder.out_dim
        out = []
        for stage in (1, 2):
            b, p = self.batch_size(stage), dims[stage]
            if b <= d + p:
                out.append(f"stage {stage}: batch {b} does not exceed the representation "
                           f"size + auxiliary dimensions ({d} + {p}): the reconstruction term "
                           "is nearly vacuous (only the ridge gives it a gradient) and the "
                           f"residual of a batch has fewer than {d} dimensions; use a batch "
                           f"of at least {d + p + 1}")
        return out

    def aux_problem(self, fitted: dict[int, int]) -> str | None:
        """Why the fitted auxiliary sets leave no residual space (None when they do)."""
        if not get(self.method).uses_auxiliary:
            return None
        for stage in (1, 2):
            b, p = self.batch_size(stage), fitted[stage]
            if p >= b - 1:
                return (f"stage {stage}: {p} auxiliary dimensions (loss.aux_variance "
                        f"{self.loss.aux_variance}) span the whole centred batch of {b}, so "
                        "the residual is empty")
        return None

    @model_validator(mode="after")
    def _check(self) -> SSLConfig:
        d = self.encoder.out_dim
        if d % self.aggregator.n_heads:
            raise ValueError(f"encoder.out_dim ({d}) must be divisible by aggregator.n_heads "
                             f"({self.aggregator.n_heads})")
        smallest = min(self.batch_size(1), self.batch_size(2))
        if self.loss.max_aux_dim is not None and self.loss.max_aux_dim >= smallest - 1:
            raise ValueError(f"loss.max_aux_dim ({self.loss.max_aux_dim}) must be below "
                             f"the batch size - 1 ({smallest - 1}): otherwise the auxiliary "
                             "features span the whole centred batch and the residual is empty")
        if self.encoder.n_stages >= self.encoder.n_layers:
            raise ValueError("encoder.n_stages must be below encoder.n_layers")
        return self
