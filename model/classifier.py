"""The topic classifier: a transformers sequence-classification checkpoint plus our preprocessing settings.

A checkpoint directory is an ordinary Hugging Face model (config.json with id2label, model.safetensors,
tokenizer) that `AutoModelForSequenceClassification.from_pretrained` opens alone, plus `topic_config.json`
with what must be identical at training and predict time: normalisation, the encoder's text prefix,
max length, and for multi-label models the per-label thresholds.
"""
from __future__ import annotations

import json
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np

from . import backends
from .atomic import atomic_directory
from .errors import UserError
from .inputs import as_batch, input_error, script_warnings
from .normalize import NormalizerConfig, normalize
from .scores import aggregate_windows, logit, probabilities, topic_scores
from .tokens import Tokens

# torch and transformers are imported where a PyTorch model is loaded or run, never for a model that ONNX
# Runtime runs (the fast default): a one-article predict then starts at import speed. The TF-IDF blend loads
# scikit-learn, which a model without one never imports.
if TYPE_CHECKING:
    import torch

    from .tfidf import TfidfBaseline

TOPIC_CONFIG = "topic_config.json"
TFIDF_DIR = "tfidf"
TEACHER_DIR = "teacher"  # a distilled model ships the full-size model it is measured against here
SETTINGS_FORMAT = 1  # topic_config.json layout; raise when a change would mislead older readers
_EXPORTING = threading.RLock()  # held while a model is exported to the ONNX cache
# A text longer than this is no news article (a dump of several, a report, a book chapter): predict warns that
# it read only the windows. News articles are longer than the windows too, but their lead carries the topic.
# All but one of ANT's 31,526 articles and all of JawharaFM's 10,162 are shorter (99.9th percentiles: 9,490
# and 4,850 characters).
LONG_TEXT_CHARS = 20_000


@dataclass
class TopicSettings:
    """Everything besides the weights that predict needs to reproduce training's view of a text."""

    normalizer: NormalizerConfig = field(default_factory=NormalizerConfig)
    text_prefix: str = ""
    max_length: int = 256
    multi_label: bool = False
    thresholds: dict[str, float] = field(default_factory=dict)
    display_names: dict[str, str] = field(default_factory=dict)
    # Long articles: read up to `max_windows` overlapping windows of max_length tokens and aggregate their
    # logits ("mean" or "max"); each window after the first starts with the prefix and title again when
    # `title_in_every_window`. max_windows = 1 reads the head only, exactly as training saw it.
    max_windows: int = 1
    window_overlap: int = 32
    aggregate: str = "mean"
    title_in_every_window: bool = True
    # Blend with the TF-IDF model saved in tfidf/ (model/tfidf.py fuse): {"weight", "temperature"}; empty = none.
    # Training adopts it only where it gained on dev (training/fusion.py).
    fusion: dict = field(default_factory=dict)
    # The backend predict runs this model with on a CPU when none is asked for (model/backends.py), chosen for
    # this model by measured speed and accuracy (arabic-topics benchmark); empty: the machine's default.
    backend: str = ""
    # What `label` is chosen among (multi-label models): the topical labels, plus a residual topic that stands
    # for "none of them" and scores 1 - the highest of them (the shipped model's politics: the political
    # sections, which it learnt as none of its four topics; its politics output is a facet any article may
    # have). Empty: every label is a topic.
    topics: list[str] = field(default_factory=list)
    residual_topic: str = ""
    # A second model (the subfolder `second_model`, same labels) reads what this one reads worst: every text
    # read whole in one window of at most `second_model_tokens` tokens (headlines, one-line posts), and every
    # text whose two best topic scores here lie less than `second_model_margin` apart. Its logits are moved by
    # the difference of the two models' thresholds, so this model's thresholds take exactly its decisions;
    # where topics are set, its topic scores (and so `label`) stay its own. The shipped default hands both to
    # its 12-layer teacher (docs/default-model.md#the-second-model). Empty: this model reads every text alone.
    second_model: str = ""
    second_model_tokens: int = 0
    second_model_margin: float = 0.0
    # A title model (the subfolder `title_model`: single-label, its labels this model's topics) reads the short
    # texts beside the second model: a text read whole in at most `second_model_tokens` tokens takes as topic
    # scores the mean of the title model's probabilities (weight `title_model_weight`) and the second model's
    # own topic scores, so that its `label` is the mean's best topic; its other labels stay the second model's.
    # The shipped default's is trained on headlines (docs/default-model.md#the-title-model). Empty: none.
    title_model: str = ""
    title_model_weight: float = 0.0

    def __post_init__(self):
        if self.aggregate not in ("mean", "max"):
            raise UserError(f"unknown window aggregation {self.aggregate!r} (mean or max)")
        if not isinstance(self.max_windows, int) or self.max_windows < 1:
            raise UserError(f"max_windows must be a whole number of at least 1 (got {self.max_windows!r})")
        if self.backend:
            backends.check_backend(self.backend)
        if self.residual_topic and not self.topics:
            raise UserError(f"residual_topic {self.residual_topic!r} needs the topics it stands beside (topics)")
        if self.residual_topic in self.topics:
            raise UserError(f"residual_topic {self.residual_topic!r} is also one of the topics")
        if bool(self.second_model) != (self.second_model_tokens > 0 or self.second_model_margin > 0):
            raise UserError("second_model needs second_model_tokens or second_model_margin (> 0), and they need it")
        if bool(self.title_model) != (0 < self.title_model_weight <= 1) or not 0 <= self.title_model_weight <= 1:
            raise UserError("title_model needs title_model_weight in (0, 1], and it needs title_model")
        if self.title_model and not self.second_model_tokens:
            raise UserError("title_model reads the texts of up to second_model_tokens tokens: set second_model_tokens")

    def alone(self) -> "TopicSettings":
        """These settings without the second and title models: the model reads every text itself."""
        return replace(self, second_model="", second_model_tokens=0, second_model_margin=0.0, title_model="",
                       title_model_weight=0.0)

    def threshold_vector(self, labels: Sequence[str]) -> np.ndarray:
        """The multi-label decision threshold of each label in `labels` (0.5 where none was tuned)."""
        return np.array([self.thresholds.get(label, 0.5) for label in labels])

    def to_dict(self) -> dict:
        data = {"format_version": SETTINGS_FORMAT, **asdict(self)}
        data["normalizer"] = self.normalizer.to_dict()
        for name in ("fusion", "backend", "topics", "residual_topic", "second_model", "second_model_tokens",
                     "second_model_margin", "title_model", "title_model_weight"):
            # written only when set: models without them stay readable by older versions
            if not data[name]:
                del data[name]
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "TopicSettings":
        """Settings from topic_config.json; a file from a newer package, or with settings this version does
        not know, is refused (UserError) rather than half-applied."""
        data = dict(data)
        version = data.pop("format_version", 1)
        if not isinstance(version, int) or version > SETTINGS_FORMAT:
            raise UserError(f"written by a newer arabic-news-topics (format {version}, this version reads up to "
                            f"{SETTINGS_FORMAT}); upgrade the package")
        unknown = set(data) - {f.name for f in fields(cls)}
        if unknown:
            raise UserError(f"unknown settings {', '.join(sorted(unknown))}")
        try:
            data["normalizer"] = NormalizerConfig.from_dict(data.get("normalizer"))
        except ValueError as exc:
            raise UserError(str(exc)) from None
        return cls(**data)


def prepare_text(text: str, title: str | None, settings: TopicSettings) -> str:
    """The exact string the encoder sees: prefix + normalised title and body."""
    joined = f"{title}\n{text}" if title else text
    return settings.text_prefix + normalize(joined, settings.normalizer)


def read_labels(path: Path) -> list[str]:
    """The output labels in order, from config.json's id2label."""
    try:
        id2label = json.loads((path / "config.json").read_text(encoding="utf-8"))["id2label"]
        return [id2label[str(i)] for i in range(len(id2label))]
    except (OSError, ValueError, KeyError) as exc:
        raise UserError(f"{path / 'config.json'}: no usable id2label ({exc.__class__.__name__})") from None


def _load_torch(path: Path):
    """(PyTorch model, transformers tokenizer) of a full checkpoint or a light delta directory."""
    from . import delta

    if delta.is_delta(path):  # a light directory: trained tensors only, overlaid on its verified base
        return delta.load_delta(path)
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from .quiet import no_progress_bar

    check_head(path)
    try:
        with no_progress_bar():
            model = AutoModelForSequenceClassification.from_pretrained(path)
        return model, AutoTokenizer.from_pretrained(path)
    except Exception as exc:  # truncated/corrupt safetensors, bad config.json: many error types
        raise _unloadable(path, exc) from None


def _unloadable(path: Path, exc: Exception) -> UserError:
    first = (str(exc).strip().splitlines() or [""])[0][:200]
    return UserError(f"{path}: cannot load the model ({exc.__class__.__name__}: {first})")


def check_head(path: Path) -> None:
    """Before loading a full checkpoint: its weights file must be readable and id2label must name exactly
    the classification head's outputs, or labels would be attached to the wrong scores."""
    from safetensors import safe_open

    weights = path / "model.safetensors"
    if not weights.is_file():
        return  # sharded or legacy checkpoints: transformers checks them while loading
    try:
        with safe_open(str(weights), framework="pt") as stored:
            heads = [k for k in stored.keys() if k.endswith(("out_proj.weight", "classifier.weight"))]
            outputs = stored.get_slice(heads[-1]).get_shape()[0] if heads else None
        id2label = json.loads((path / "config.json").read_text(encoding="utf-8")).get("id2label", {})
    except Exception as exc:  # truncated or garbled files raise safetensors' or json's own error types
        raise _unloadable(path, exc) from None
    if outputs is not None and outputs != len(id2label):
        raise UserError(f"{path}: config.json names {len(id2label)} labels (id2label) but the classification "
                        f"head has {outputs} outputs")


class TopicClassifier:
    """A topic model and the backend that runs it (model/backends.py). `model` is the PyTorch model, or None
    for a directory exported to ONNX, which only ONNX Runtime runs."""

    def __init__(self, model, tokenizer, settings: TopicSettings, device: torch.device | None = None,
                 backend: str | None = None, onnx_path: Path | None = None, labels: list[str] | None = None,
                 tfidf: TfidfBaseline | None = None, tokens: Tokens | None = None):
        """model: a PyTorch sequence-classification model, or None with `onnx_path` (then `labels` and
        `tokens` name the outputs and the tokenizer). tokenizer: the transformers tokenizer of a PyTorch model
        (saved with it); `tokens` is built from it when not given."""
        self.model, self.tokenizer, self.settings = model, tokenizer, settings
        self.source: Path | None = None  # the directory it was loaded from (from_pretrained), which holds the second model
        self._second: TopicClassifier | None = None
        self._title: TopicClassifier | None = None
        self.tokens = tokens if tokens is not None else Tokens.from_transformers(tokenizer)
        if settings.fusion and tfidf is None:
            raise UserError(f"the settings blend in a TF-IDF model ({TFIDF_DIR}/) that is missing")
        self.tfidf = tfidf
        self.labels = labels if labels is not None else [model.config.id2label[i]
                                                         for i in range(len(model.config.id2label))]
        unknown = sorted(set(settings.topics) - set(self.labels))
        if unknown:
            raise UserError(f"the settings name topics the model has no label for: {', '.join(unknown)}")
        if onnx_path is not None:
            self.device = None
            self.backend = backend or "onnx"
            self.runner = backends.OnnxRunner(onnx_path)
        else:
            import torch

            from .hardware import default_device

            self.device = torch.device(device) if device is not None else default_device()
            self.backend = backends.check_backend(backend or backends.default_backend(self.device))
            if self.backend.startswith("onnx"):
                raise UserError(f"the {self.backend} backend needs an ONNX export (from_pretrained makes one)")
            self.runner = backends.TorchRunner(model, self.device, bf16=self.backend == "bf16")

    # ------------------------------------------------------------------------------------ persistence
    @classmethod
    def from_pretrained(cls, path: str | Path | None = None, device: str | None = None,
                        backend: str | None = None) -> "TopicClassifier":
        """Load a model directory: a full checkpoint, a light delta (model/delta.py) or an ONNX export; None:
        the default model (model.default_model_dir()). backend: fp32, bf16, onnx or onnx-int8
        (model/backends.py); None picks the machine's default, or ONNX Runtime for an ONNX directory. An
        onnx backend on a PyTorch directory exports it once to the user cache and runs that."""
        if path is None:
            from . import default_model_dir  # the package imports this module first

            path = default_model_dir()
        path = Path(path)
        if backend is not None:
            backends.check_backend(backend)
        if not (path / "config.json").is_file() or not (path / TOPIC_CONFIG).is_file():
            raise UserError(f"{path} is not a topic model directory (needs config.json and {TOPIC_CONFIG})")
        try:
            settings = TopicSettings.from_dict(json.loads((path / TOPIC_CONFIG).read_text(encoding="utf-8")))
        except UserError as exc:  # before ValueError, which it subclasses
            raise UserError(f"{path / TOPIC_CONFIG}: {exc}") from None
        except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError is a ValueError
            raise UserError(f"{path / TOPIC_CONFIG}: unreadable ({exc.__class__.__name__})") from None
        if settings.fusion and not (path / TFIDF_DIR).is_dir():
            raise UserError(f"{path}: its settings blend in a TF-IDF model, but {TFIDF_DIR}/ is missing")
        tfidf = None
        if settings.fusion:
            from .tfidf import TfidfBaseline

            tfidf = TfidfBaseline.load(path / TFIDF_DIR)
        if (path / backends.ONNX_FILE).is_file():
            if backend not in (None, "onnx", "onnx-int8"):
                raise UserError(f"{path} is an ONNX export: only ONNX Runtime runs it (--backend onnx)")
            classifier = cls(None, None, settings, None, backend, onnx_path=path / backends.ONNX_FILE,
                             labels=read_labels(path), tfidf=tfidf, tokens=Tokens.from_dir(path))
            classifier.source = path
            return classifier
        backend = backend or backends.default_backend(device, settings.backend)
        if backend in ("onnx", "onnx-int8"):
            # Exported once into the user cache (keyed by the weights' checksum), then run from there.
            cached = backends.onnx_cache_dir(path, backend)
            with _EXPORTING:  # one export at a time: companions load side by side, and tracing is not thread-safe
                if not backends.export_ready(cached):
                    cls.from_pretrained(path, device, "fp32").save_onnx(cached, int8=backend == "onnx-int8")
            classifier = cls.from_pretrained(cached, device, backend)
        else:
            model, tokenizer = _load_torch(path)
            classifier = cls(model, tokenizer, settings, device, backend, tfidf=tfidf)
        classifier.source = path
        return classifier

    def save_pretrained(self, path: str | Path) -> None:
        """Write the directory atomically (model/atomic.py): an interrupted save leaves `path` as it was."""
        if self.model is None:
            raise UserError("an ONNX-exported model cannot be saved as a PyTorch checkpoint; keep its directory")
        with atomic_directory(path) as tmp:
            self.model.save_pretrained(tmp)
            self._save_reading(tmp)

    def save_onnx(self, path: str | Path, int8: bool = False) -> Path:
        """Write an ONNX model directory atomically (model.onnx, config.json with id2label, tokenizer,
        topic_config.json), which from_pretrained opens with ONNX Runtime; int8: dynamically quantised."""
        if self.model is None:
            raise UserError("this model is already an ONNX export")
        with atomic_directory(path) as tmp:
            backends.export_onnx(self.model, tmp / backends.ONNX_FILE, int8)
            self.model.config.save_pretrained(tmp)
            self._save_reading(tmp)
            backends.write_export_manifest(tmp)
            for companion in (self.settings.second_model, self.settings.title_model):
                if companion and self.source is not None:  # an export reads as its model does
                    shutil.copytree(self.source / companion, tmp / companion)
        return Path(path)

    def _save_reading(self, folder: Path) -> None:
        """What every model directory needs besides its weights to read a text as in training."""
        self.tokenizer.save_pretrained(folder)
        (folder / TOPIC_CONFIG).write_text(json.dumps(self.settings.to_dict(), ensure_ascii=False, indent=2))
        if self.tfidf is not None:
            self.tfidf.save(folder / TFIDF_DIR)

    # ------------------------------------------------------------------------------------- inference
    def windows(self, text: str, title: str | None = None) -> list[list[int]]:
        """Token ids of the windows the model reads for one article (special tokens included). The first is
        the head, tokenised exactly as in training; later ones continue the body with `window_overlap`."""
        return self._read(text, title)[0]

    def _read(self, text: str, title: str | None) -> tuple[list[list[int]], bool]:
        """(windows, whether some of the text lies beyond them)."""
        s = self.settings
        room = s.max_length - len(self.tokens.specials)
        # Tokenising is a tenth of the fast default's time per article: read a prefix of 6 characters per token
        # the windows can hold (Arabic news runs ~3.5), and the whole read limit only when that prefix is too
        # short. The margin keeps a word cut at the prefix's end out of the windows, so the ids they hold are
        # those of the whole text.
        needed = s.max_windows * room + 16
        cut = min(needed * 6, self.read_limit())
        ids = self.tokens.ids(prepare_text(text[:cut], title, s))
        if len(ids) < needed and len(text) > cut:
            cut = self.read_limit()
            ids = self.tokens.ids(prepare_text(text[:cut], title, s))
        heads, end = [ids[:room]], room
        if s.max_windows > 1 and len(ids) > room:
            lead = self.tokens.ids(prepare_text("", title, s)) if s.title_in_every_window else []
            lead = lead[: room // 2]
            step, start = room - len(lead) - s.window_overlap, room - s.window_overlap
            while start < len(ids) and len(heads) < s.max_windows:
                heads.append(lead + ids[start : start + room - len(lead)])
                end = start + room - len(lead)
                start += step
        return [self.tokens.with_specials(w) for w in heads], len(text) > cut or len(ids) > end

    def read_limit(self) -> int:
        """Characters of an article beyond which it is never tokenised (at least 16 per token of the windows,
        more than any text needs): a 5 MB article costs no more than a long one."""
        room = self.settings.max_length - len(self.tokens.specials)
        return self.settings.max_windows * room * 16

    def explain(self, text: str, title: str | None = None, labels: list[str] | None = None, top_n: int = 3,
                max_sentences: int = 40, batch_size: int = 32) -> dict:
        """predict's result for one text, plus for each label it returns (or each of `labels`) the `top_n`
        sentences that raise the label's probability most: {"sentence", "start", "end", "effect"}, the effect
        being the probability with the sentence minus without it (model/explain.py). At most `max_sentences`
        sentences are scored, one forward pass each; `note` says how many and what was left out."""
        from .explain import explain

        return explain(self, text, title, labels, top_n, max_sentences, batch_size)

    def logits(self, texts: Sequence[str], titles: Sequence[str | None] | None = None,
               batch_size: int = 32) -> np.ndarray:
        """Raw scores, one row per text; a long text's windows are aggregated (settings.aggregate)."""
        return self._logits(*as_batch(texts, titles), batch_size)[0]

    def _read_all(self, texts, titles) -> tuple[list[list[int]], np.ndarray, list[bool]]:
        """(every text's windows in one list, the index of the text each window belongs to, whether each text
        goes on beyond its windows)."""
        windows, owner, truncated = [], [], []
        for n, (text, title) in enumerate(zip(texts, titles)):
            read, cut = self._read(text, title if isinstance(title, str) else None)
            windows.extend(read)
            owner.extend([n] * len(read))
            truncated.append(cut)
        return windows, np.asarray(owner, dtype=np.int64), truncated

    def _logits(self, texts, titles, batch_size) -> tuple[np.ndarray, list[bool]]:
        windows, owner, truncated = self._read_all(texts, titles)
        scores = np.zeros((len(texts), len(self.labels)), dtype=np.float32)
        s = self.settings
        counts = np.bincount(owner, minlength=len(texts))
        first = np.cumsum(counts) - counts  # each text's windows are consecutive
        short = np.array([s.second_model_tokens > 0 and counts[n] == 1 and not truncated[n]
                          and len(windows[first[n]]) <= s.second_model_tokens for n in range(len(texts))], dtype=bool)
        mine = np.flatnonzero(~short[owner])  # the windows this model reads
        if len(mine):
            aggregated = aggregate_windows(self.score_windows([windows[i] for i in mine], batch_size), owner[mine],
                                           len(texts), s.aggregate)
            scores[~short] = aggregated[~short]
        second = short.copy()
        if s.second_model_margin > 0 and (~short).any() and len(self.topics) > 1:
            topic = np.sort(self.topic_proba(probabilities(scores[~short], s.multi_label)), axis=1)
            second[np.flatnonzero(~short)[topic[:, -1] - topic[:, -2] < s.second_model_margin]] = True
        if second.any():
            if short.any():
                self.companions()  # a short text is read by both: load them side by side
            reader, picked = self.second_reader(), np.flatnonzero(second)
            logits = reader._logits([texts[n] for n in picked], [titles[n] for n in picked], batch_size)[0]
            logits = logits[:, [reader.labels.index(label) for label in self.labels]]
            # Its decisions are its own, its logits moved onto this model's thresholds. Where topics are set
            # apart from facets, its topic scores stay its own answer, which moving them would change
            # (`label` 2.8 macro-F1 points lower on dev articles: docs/default-model.md#the-second-model);
            # on short texts they are the title mean.
            moved = logits + self._second_offset(reader)
            own = self.topic_proba(probabilities(logits, s.multi_label))
            titled = np.flatnonzero(short[picked]) if s.title_model else np.array([], dtype=np.int64)
            if len(titled):
                own[titled] = self._title_mean(own[titled], [texts[n] for n in picked[titled]],
                                               [titles[n] for n in picked[titled]], batch_size)
            kept = np.arange(len(picked)) if s.topics else titled
            moved[kept] = self._with_topic_scores(moved[kept], own[kept])
            scores[picked] = moved
        if self.tfidf is not None:
            from .tfidf import fuse, texts_with_titles

            scores = fuse(scores, self.tfidf.decision_function(texts_with_titles(texts, titles)),
                          self.settings.fusion, self.settings.multi_label)
        return scores, truncated

    def second_reader(self) -> "TopicClassifier":
        """The second model (settings.second_model), loaded on first use with this model's backend; it must
        have this model's labels."""
        if self._second is None:
            path = self._companion_dir(self.settings.second_model, "second model")
            self._second = load_companion(path, f"second model {path}", labels=self.labels, same_labels=True,
                                          backend=self.backend)
        return self._second

    def title_reader(self) -> "TopicClassifier":
        """The title model (settings.title_model), loaded on first use with its own backend; its labels must
        be this model's topics."""
        if self._title is None:
            path = self._companion_dir(self.settings.title_model, "title model")
            self._title = load_companion(path, f"title model {path}", multi_label=False, labels=self.topics,
                                         same_labels=True, backend=self._title_backend())
        return self._title

    def _companion_dir(self, folder: str, role: str) -> Path:
        if self.source is None:
            raise UserError(f"this model hands some texts to a {role} ({folder}/), but was not loaded from its "
                            "directory (use TopicClassifier.from_pretrained)")
        return self.source / folder

    def companions(self) -> list["TopicClassifier"]:
        """The second and title models the settings name, loaded now, side by side: ONNX Runtime builds its
        sessions outside the GIL, and a headline's start-up (which needs both) fell by 0.5 s on 2 cores
        (docs/benchmarks.md). predict loads them on its first text that needs them; a server or a benchmark
        loads them before it serves or times."""
        s = self.settings
        loads = [load for name, load in ((s.second_model, self.second_reader), (s.title_model, self.title_reader))
                 if name]
        if len(loads) < 2 or (self._second is not None and self._title is not None):
            return [load() for load in loads]
        with ThreadPoolExecutor(len(loads)) as pool:
            return list(pool.map(lambda load: load(), loads))

    def _title_mean(self, own: np.ndarray, texts, titles, batch_size: int) -> np.ndarray:
        """The mean of the title model's probabilities and `own` topic scores (columns: self.topics)."""
        title = self.title_reader()
        logits = title._logits(texts, titles, batch_size)[0]
        theirs = probabilities(logits, False)[:, [title.labels.index(t) for t in self.topics]]
        w = self.settings.title_model_weight
        return w * theirs + (1 - w) * own

    def _title_backend(self) -> str:
        """The title model's own backend where its settings name one (the shipped one's: fp32 ONNX, as int8
        cost it 1.1 macro-F1 points on dev titles), else this model's."""
        path = self.source / self.settings.title_model / "topic_config.json"
        own = json.loads(path.read_text()).get("backend", "") if path.is_file() else ""
        return own or self.backend

    def _with_topic_scores(self, logits: np.ndarray, topic: np.ndarray) -> np.ndarray:
        """`logits` whose topic scores (topic_proba) rank as the rows of `topic` do, best topic first.
        With a residual topic, which scores 1 - the highest topic, the topics are scaled so that the best
        one and the residual share 1 as in `topic` (the two cannot sum to more: a topic and the residual are
        each a mean over scores of at most 1 together)."""
        s = self.settings
        if not s.multi_label:  # topics are the labels: softmax gives `topic` back
            return np.log(np.clip(topic, 1e-12, None)).astype(np.float32)
        mine = topic
        if s.residual_topic:
            mine = topic[:, :-1] / (topic[:, :-1].max(1, keepdims=True) + topic[:, -1:])
        out = logits.copy()
        out[:, [self.labels.index(t) for t in (s.topics or self.labels)]] = logit(mine)
        return out

    def _second_offset(self, reader: "TopicClassifier") -> np.ndarray:
        """What moves the second model's logits onto this model's thresholds (multi-label: logit of this
        model's threshold minus logit of its own, so each label passes here exactly where it passed there).
        The topic scores are then set back to the second model's own answer (_with_topic_scores)."""
        if not self.settings.multi_label:
            return np.zeros(len(self.labels), dtype=np.float32)

        return (logit(self.settings.threshold_vector(self.labels))
                - logit(reader.settings.threshold_vector(self.labels))).astype(np.float32)

    def score_windows(self, windows: list[list[int]], batch_size: int = 32) -> np.ndarray:
        """Logits of each window (token ids with special tokens), sorted by length and padded per batch, so
        a batch pads only to its own longest window."""
        order = np.argsort([len(w) for w in windows], kind="stable")
        scores = np.zeros((len(windows), len(self.labels)), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            scores[idx] = self.runner(*self.tokens.pad([windows[i] for i in idx]))
        return scores

    def head_layer(self) -> torch.nn.Linear:
        """The linear layer that turns the pooled representation into one score per label."""
        import torch

        head = getattr(self.model, "classifier", None) if self.model is not None else None
        layer = getattr(head, "out_proj", head)
        if not isinstance(layer, torch.nn.Linear) or layer.out_features != len(self.labels):
            raise UserError("this model's classification head is not a single linear layer over a pooled "
                            "representation (BERT / XLM-R heads are), or it is an ONNX export")
        return layer

    def head_features(self, texts: Sequence[str], titles=None, batch_size: int = 32) -> np.ndarray:
        """What the head's last linear layer reads, one row per text, averaged over its windows (the mean
        of the logits is that layer applied to this mean). A new label is fitted on it (training/add_label.py)."""
        windows, owner, _ = self._read_all(*as_batch(texts, titles))
        order = np.argsort([len(w) for w in windows], kind="stable")
        import torch

        captured = []
        handle = self.head_layer().register_forward_hook(lambda m, args, out: captured.append(args[0].float()))
        try:
            self.score_windows(windows, batch_size)  # sorts by length with the same stable order
        finally:
            handle.remove()
        features = np.zeros((len(windows), captured[0].shape[1]), dtype=np.float32)
        features[order] = torch.cat(captured).cpu().numpy()
        return aggregate_windows(features, owner, len(texts), "mean")

    def predict_proba(self, texts: Sequence[str] | str, titles=None, batch_size: int = 32) -> np.ndarray:
        """One row of probabilities per text (columns: self.labels). An array has no room for a per-item
        error, so any text predict would refuse raises UserError naming it. titles: as for predict."""
        texts, titles = as_batch(texts, titles)
        for i, text in enumerate(texts):
            if (problem := input_error(text)) is not None:
                raise UserError(f"text {i}: {problem}")
        return probabilities(self._logits(texts, titles, batch_size)[0], self.settings.multi_label)

    def predict(self, texts: Sequence[str] | str, top_k: int | None = None, titles=None,
                batch_size: int = 32) -> list[dict]:
        """One entry per text, in order. A text that cannot be classified gets {"error": why} instead, and the
        other texts keep their results. titles: one per text (a str or None each), or one str with one str text.

        - `label`: always the best topic, never None: the most probable class of a single-label model; of a
          multi-label model, the highest-scoring of its topics (`self.topics`: settings.topics and the residual
          topic, which scores 1 - the highest of them; without topics, every label). `score`: its score.
        - `labels`: single-label models, the top_k most probable (default 1, `label` first); multi-label
          models, every label whose probability passes its threshold, facets included, most probable first
          (top_k does not apply to them and is refused).
        - `scores`: every label's probability. `low_confidence`: the best topic does not pass its own
          threshold (a residual topic that is no label passes when no other topic does); always False for a
          single-label model, which has no thresholds.
        - `warnings`: valid but odd input (model/inputs.py, and a text far longer than a news article)."""
        if top_k is not None and self.settings.multi_label:
            raise UserError("top_k applies to single-label models; this multi-label model returns every label "
                            "that passes its threshold (labels) and every label's probability (scores)")
        texts, titles = as_batch(texts, titles)
        errors = [input_error(text) for text in texts]
        good = [i for i, problem in enumerate(errors) if problem is None]
        logits, truncated = self._logits([texts[i] for i in good], [titles[i] for i in good], batch_size)
        results: list[dict] = [{"error": problem} for problem in errors]
        for row, i, cut in zip(probabilities(logits, self.settings.multi_label), good, truncated):
            results[i] = self._entry(row, texts[i], cut, 1 if top_k is None else top_k)
        return results

    def _entry(self, row: np.ndarray, text: str, cut: bool, top_k: int) -> dict:
        """predict's entry for one text from its probabilities and whether it was read whole."""
        warnings = script_warnings(text)
        if cut and len(text) > LONG_TEXT_CHARS:
            warnings.append(f"very long text ({len(text):,} characters, news articles run under "
                            f"{LONG_TEXT_CHARS:,}): only its first {self.settings.max_windows} window(s) of "
                            f"{self.settings.max_length} tokens were read")
        return {**self._result(row, top_k), "warnings": warnings}

    @property
    def topics(self) -> list[str]:
        """What `label` is chosen among (predict): the settings' topics and residual topic, or every label."""
        s = self.settings
        return [*s.topics, *([s.residual_topic] if s.residual_topic else [])] if s.topics else list(self.labels)

    def topic_proba(self, probabilities: np.ndarray) -> np.ndarray:
        """Rows of label probabilities (columns: self.labels) as topic scores (columns: self.topics)."""
        s = self.settings
        return topic_scores(probabilities, self.labels, s.topics or self.labels, s.residual_topic)

    def decide(self, probabilities: np.ndarray, top_label: bool = False) -> list[list[str]]:
        """predict's `labels` for each row of probabilities, or with `top_label` its `label` alone."""
        rows = np.asarray(probabilities)
        if top_label:
            return [[self.topics[i]] for i in self.topic_proba(rows).argmax(1)]
        return [self._chosen(row, 1) for row in rows]

    def _chosen(self, row: np.ndarray, top_k: int) -> list[str]:
        ranked = np.argsort(-row, kind="stable")
        if self.settings.multi_label:
            passed = row >= self.settings.threshold_vector(self.labels)
            return [self.labels[i] for i in ranked if passed[i]]
        return [self.labels[i] for i in ranked[: max(1, top_k)]]

    def _result(self, row: np.ndarray, top_k: int) -> dict:
        scores = {self.labels[i]: round(float(row[i]), 6) for i in range(len(self.labels))}
        chosen = self._chosen(row, top_k)
        if not self.settings.multi_label:
            return {"label": chosen[0], "score": scores[chosen[0]], "labels": chosen, "scores": scores,
                    "low_confidence": False}
        topic_row = self.topic_proba(row[None])[0]
        best = int(np.argmax(topic_row))  # the first of equal scores, in self.topics order
        label = self.topics[best]
        fits = label in chosen if label in self.labels else not set(self.settings.topics) & set(chosen)
        return {"label": label, "score": round(float(topic_row[best]), 6), "labels": chosen, "scores": scores,
                "low_confidence": not fits}


def load_companion(path, role: str, *, multi_label: bool | None = None, labels: Sequence[str] | None = None,
                   same_labels: bool = False, backend: str | None = None) -> TopicClassifier:
    """A model another one leans on (a teacher for distillation or pseudo-labels, a second model), loaded and
    checked: multi-label or not as asked, holding every one of `labels` and, with `same_labels`, no other.
    `role` names it in each one-line error."""
    model = TopicClassifier.from_pretrained(path, backend=backend)
    kinds = {True: "multi-label", False: "single-label"}
    if multi_label is not None and model.settings.multi_label != multi_label:
        raise UserError(f"{role}: a {kinds[model.settings.multi_label]} model cannot serve a {kinds[multi_label]} one")
    if labels is not None and (set(labels) - set(model.labels) or same_labels and set(model.labels) != set(labels)):
        raise UserError(f"{role}: its labels ({', '.join(model.labels)}) are not the labels wanted "
                        f"({', '.join(labels)})")
    return model
