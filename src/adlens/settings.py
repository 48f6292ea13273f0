"""The one settings object. Every knob reads ``ADLENS_<NAME>`` from the environment.

Importing this module changes nothing global: the settings are read when
:func:`get_settings` is first called, and nothing is created on disk here.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "adlens"


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "adlens"


def _folders(text: str) -> list[Path]:
    """The folders of a colon-separated list, in order, empty entries dropped."""
    return [Path(p.strip()).expanduser() for p in text.split(os.pathsep) if p.strip()]


class Settings(BaseSettings):
    """Runtime configuration of adlens (env prefix ``ADLENS_``)."""

    model_config = SettingsConfigDict(env_prefix="ADLENS_", extra="ignore")

    # --- models -----------------------------------------------------------
    models: str = Field(
        default="",
        description="Colon-separated folders searched first for model files.",
    )
    cache_dir: Path = Field(
        default_factory=_default_cache_dir,
        description="User cache: downloaded models and converted ONNX files.",
    )
    offline: bool = Field(default=False, description="Forbid model downloads.")
    download_timeout: float = Field(default=60.0, gt=0)

    # --- images -----------------------------------------------------------
    max_pixels: int = Field(default=50_000_000, gt=0, description="Refuse larger images.")
    decode_max_side: int = Field(
        default=1920, ge=0,
        description="Analysis decodes an image whose longer side is at least twice this at 1/2, 1/3… of its "
        "size (a JPEG at 1/2, 1/4 or 1/8 while decoding; never below this side): faster, and memory stays "
        "bounded; 0 decodes at full size. The default is twice detector_max_side's: the face crops for "
        "embeddings and attributes lose nothing measurable there (raise it with detector_max_side).",
    )
    decode_slots: int = Field(
        default=2, ge=1, description="Images decoded at once in one process (each may take a few hundred MB); "
        "more wait their turn.",
    )

    # --- vision -----------------------------------------------------------
    detector: str = "yunet"
    detector_score_threshold: float = Field(default=0.7, ge=0.0, le=1.0)
    detector_nms_threshold: float = Field(default=0.3, ge=0.0, le=1.0)
    detector_max_side: int = Field(
        default=960, ge=64, description="Images are scaled down to this side before detection."
    )
    min_face_size: int = Field(default=16, ge=1, description="Faces smaller (px) are dropped.")
    signage_attribute_refresh: float = Field(
        default=1.0, ge=0.0, description="Seconds between two computations of a followed person's age, gender, "
        "eyewear, beard and hat on a screen (emotion is computed every frame; a newcomer gets them at once); "
        "0 computes them every frame.",
    )
    embedder: Literal["onnx", "dlib"] = Field(
        default="onnx", description="Where dlib's identity network runs: onnx (its weights converted once to ONNX, "
        "run in ONNX Runtime: batched, several times faster) or dlib (dlib itself); the embeddings are the same.",
    )
    emotion_model: str = Field(
        default="emotion-net", description="Emotion model: emotion-net (adlens's own, 0.703 on FER2013 PrivateTest), "
        "emotion-net-big-xception (it and the big Xception averaged: 0.716, about 1.3× its cost), emotion-mini-xception, "
        "emotion-big-xception or emotion-xception-pair. All are trained on FER2013 (research use)."
    )
    age_model: str = Field(default="age-mobilenet", description="Age model: age-mobilenet (trained on UTKFace: "
                           "non-commercial) or age-cydral (CC0 weights, Cydral's own data).")
    gender_model: str = Field(default="gender-mobilenet", description="Gender model: gender-mobilenet (trained on "
                              "UTKFace: non-commercial), gender-cydral (CC0 weights) or gender-mini-xception.")
    face_attributes_model: str = Field(
        default="face-attributes-head", description="Eyewear, beard and hat model; empty turns it off."
    )
    attribute_threshold: float | None = Field(
        default=None, ge=0.0, le=1.0, description="Eyewear, beard and hat probability from which a face counts as "
        "having it (ad targeting, audience counts, product rules, evaluation), for all three at once; unset: each "
        "attribute's own default (see eyewear_threshold).",
    )
    eyewear_threshold: float | None = Field(
        default=None, ge=0.0, le=1.0, description="Eyewear's threshold; unset: attribute_threshold, else 0.5 "
        "(the head is calibrated: 0.5 is even odds).",
    )
    beard_threshold: float | None = Field(
        default=None, ge=0.0, le=1.0, description="Beard's threshold; unset: attribute_threshold, else the model "
        "card's (few false alarms on women).",
    )
    hat_threshold: float | None = Field(
        default=None, ge=0.0, le=1.0, description="Hat's threshold; unset: attribute_threshold, else the model "
        "card's (few false alarms on bare heads).",
    )
    match_threshold: float = Field(
        default=0.6, gt=0.0, description="Largest embedding distance that still means 'same person'."
    )

    # --- store ------------------------------------------------------------
    data_dir: Path = Field(
        default_factory=_default_data_dir,
        description="User data folder: the embedded SQLite store lives here.",
    )
    database_url: str = Field(
        default="",
        description="SQLAlchemy URL of the store; empty means SQLite at <data_dir>/adlens.db.",
    )
    media_roots: str = Field(
        default="",
        description="Colon-separated folders of photos that imports through the API may name and the server "
        "may serve, besides the files uploaded with an import (see docs/api.md, files on the server).",
    )

    # --- products -----------------------------------------------------------
    concepts_top_k: int = Field(default=5, ge=1, le=50, description="ImageNet concepts kept per product.")
    colours_k: int = Field(default=4, ge=1, le=12, description="Dominant colours sought per product.")
    profile_half_life_days: float = Field(
        default=30.0, gt=0, description="Feedback this many days old counts half as much."
    )
    dislike_weight: float = Field(default=0.25, ge=0, description="How hard a dislike pushes away (a like pulls 1).")
    label_neighbours: int = Field(default=7, ge=1, description="Neighbours voting on an untagged product's labels.")

    # --- privacy and the gallery ----------------------------------------------
    mode: Literal["anonymous", "members"] = Field(
        default="anonymous",
        description="anonymous: nobody is identified and no embedding is stored; "
        "members: enrolled, consented customers are recognised, everyone else stays anonymous.",
    )
    gallery_threshold: float = Field(
        default=0.5, gt=0.0,
        description="Largest embedding distance at which a face is recognised as an enrolled member. "
        "Stricter than match_threshold (1:1 verification): a search over N members has N chances to "
        "accept a stranger. Calibrated in docs/gallery.md.",
    )
    gallery_snapshots: Path | None = Field(
        default=None,
        description="Folder where the processes of one host share the gallery index (memory-mapped snapshots "
        "of decrypted embeddings: use a RAM-backed, private folder such as /dev/shm/adlens-gallery); "
        "empty: each process holds its own copy. See docs/gallery-index.md.",
    )
    gallery_key: SecretStr = Field(
        default=SecretStr(""),
        description="Fernet key encrypting face embeddings at rest; empty: <data_dir>/gallery.key, "
        "created on first use (back it up: without it the gallery cannot be read).",
    )

    # --- ads and decisions ------------------------------------------------------
    screen: str = Field(default="default", description="Screen id used when a command names none.")
    adult_age: float = Field(
        default=25.0, ge=18, le=100,
        description="Age-restricted ads need every face estimated at least this old (Challenge 25: "
        "age estimates err by years, so a margin above 18).",
    )
    exploration: float = Field(
        default=0.3, ge=0, description="LinUCB exploration rate (alpha); 0 only exploits (see docs/reports.md)."
    )
    dwell_reward_seconds: float = Field(
        default=10.0, gt=0, description="Dwell of this many seconds or more counts as a full reward of 1."
    )
    ad_duration: float = Field(default=10.0, gt=0, description="Seconds an ad plays when its creative names none.")
    max_clock_skew: float = Field(
        default=300.0, ge=0, le=86_400,
        description="Seconds a time given by a client or a command (a decision's, an answer's, a report's since) "
        "may lie ahead of this machine's clock; later ones are refused, as are times before 2000.",
    )
    emotion_fit: Path | None = Field(
        default=None, description="YAML/JSON table emotion → ad mood → fit; empty: the built-in table."
    )

    # --- the HTTP API (adlens serve) ----------------------------------------------
    max_upload_bytes: int = Field(
        default=20_000_000, gt=0, description="Largest request body the API accepts (an image, a catalogue)."
    )
    api_rate_limit: float = Field(
        default=20.0, ge=0, description="Requests per second each API key may send on average; 0 turns the limit off."
    )
    api_rate_burst: int = Field(default=60, ge=1, description="Requests an API key may send at once above the rate.")
    max_json_bytes: int = Field(
        default=1_000_000, gt=0, description="Largest JSON request body the API accepts (audience JSON, feedback)."
    )
    api_body_timeout: float = Field(
        default=60.0, gt=0, description="Seconds a client may take to send a request body; slower is 408."
    )
    api_header_timeout: float = Field(
        default=10.0, gt=0, description="Seconds a client may take to send a request's headers (adlens serve)."
    )
    api_address_failures: float = Field(
        default=1.0, ge=0, description="Failed key checks per second a client address may make on average, "
        "over its burst; 0 turns the limit off."
    )
    api_address_burst: int = Field(
        default=30, ge=1, description="Failed key checks a client address may make at once above that rate."
    )
    live_screen_timeout: float = Field(
        default=30.0, gt=0, description="A live screen (the /screen page) sending no frame for this long has left: "
        "its playing ad is logged and its state dropped."
    )
    redis_url: str = Field(
        default="", description="Redis URL (redis://host:6379/0) shared by a fleet of API workers and hosts: "
        "rate limits per key, store change notices and live-screen state (docs/fleet.md); empty: each process "
        "keeps its own, as on one machine.",
    )
    redis_prefix: str = Field(
        default="adlens:", min_length=1, max_length=64,
        description="Prefix of every Redis key and channel adlens uses (several deployments can share one Redis).",
    )

    # --- runtime ----------------------------------------------------------
    workers: int = Field(
        default=0, ge=0, description="Processes that analyse a folder, an evaluation or a catalogue's photos at "
        "once (adlens analyze, eval, catalog import --workers); 0 = one per core. Each worker loads the models "
        "once and, unless ort_threads is set, gets cores // workers threads (ONNX Runtime, LiteRT, OpenCV).",
    )
    ort_threads: int = Field(
        default=0, ge=0, description="Threads one inference may use, in ONNX Runtime (intra-op), LiteRT and, in "
        "worker processes, OpenCV (0 = the runtime's default: one per core; with N workers, or N frames in flight on "
        "a screen, cores // N each).",
    )
    ort_inter_threads: int = Field(
        default=1, ge=0, description="ONNX Runtime threads running independent graph nodes at once; used in the "
        "parallel execution mode only (0 = ONNX Runtime's default).",
    )
    ort_providers: str = Field(
        default="CPUExecutionProvider",
        description="Comma-separated ONNX Runtime execution providers, in order of preference; those this "
        "onnxruntime lacks are skipped, and CPUExecutionProvider is used when none is left.",
    )
    ort_graph_optimization: Literal["disable", "basic", "extended", "all"] = Field(
        default="all", description="ONNX Runtime graph optimisation level.",
    )
    ort_execution_mode: Literal["sequential", "parallel"] = Field(
        default="sequential", description="ONNX Runtime execution mode: nodes one after another, or independent "
        "nodes at once on ort_inter_threads threads.",
    )

    @field_validator("gallery_snapshots", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("models", "media_roots")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.strip()

    @property
    def model_dirs(self) -> list[Path]:
        """The folders of ``ADLENS_MODELS``, in order, empty entries dropped."""
        return _folders(self.models)

    @property
    def ort_provider_list(self) -> list[str]:
        """The providers of ``ADLENS_ORT_PROVIDERS``, in order, empty entries dropped."""
        return [name.strip() for name in self.ort_providers.split(",") if name.strip()]

    @property
    def media_root_dirs(self) -> list[Path]:
        """The folders of ``ADLENS_MEDIA_ROOTS``, in order, empty entries dropped."""
        return _folders(self.media_roots)

    @property
    def model_cache_dir(self) -> Path:
        return self.cache_dir / "models"

    @property
    def converted_dir(self) -> Path:
        return self.cache_dir / "converted"

    @property
    def store_url(self) -> str:
        """The SQLAlchemy URL of the store (the embedded SQLite file unless ``ADLENS_DATABASE_URL``)."""
        return self.database_url.strip() or f"sqlite:///{self.data_dir.expanduser() / 'adlens.db'}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
