"""Text <-> token ids of a run's Vocabulary (vaekit.spec): character, word, SMILES and Hugging Face tokenizers.

    char         every character a token (spaces too)
    word         words (letters, digits, _, with inner - and ' kept: "well-known", "Octavian's") and each other
                 non-space character on its own; decoded with a space between tokens except before closing
                 punctuation (. , ; : ! ? ) ] } %) and after opening brackets
    smiles       the atom-level regex of the molecule literature (Schwaller et al. 2019, "Molecular Transformer"):
                 bracket atoms [nH], two-letter Br and Cl, ring-bond digits and %nn, bonds, branches; decoded by
                 concatenation, so a SMILES string round-trips exactly
    huggingface  a `tokenizers` tokenizer file (tokenizer.json), kept as JSON in the Vocabulary so that a run is
                 self-contained; loading it parses JSON and never executes code

Every tokenizer first splits text into token strings (`split`; the text "<unk>" is one token, the unknown one, so
that what `decode` writes reads back the same); the vocabulary (the most frequent training tokens
after the four specials) maps them to ids, anything else to <unk>. `tokenizer_for(vocabulary)` gives the object
that encodes and decodes with a run's vocabulary.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

from vaekit.errors import DataError
from vaekit.spec import SPECIALS, Vocabulary

WORD_PATTERN = re.compile(r"\w+(?:[-'’]\w+)*|[^\w\s]")
# Schwaller et al. 2019's atom-level SMILES pattern; the final `.` keeps any other character as a token of its own,
# so that every string is covered and round-trips (an odd character becomes <unk> unless the vocabulary has it).
SMILES_PATTERN = re.compile(
    r"\[[^\]]+\]|Br?|Cl?|N|O|S|P|F|I|b|c|n|o|s|p|\(|\)|\.|=|#|-|\+|\\|/|:|~|@|\?|>|\*|\$|%[0-9]{2}|[0-9]|.",
    re.DOTALL,
)
NO_SPACE_BEFORE = frozenset(".,;:!?)]}%")
NO_SPACE_AFTER = frozenset("([{")
BUILT_IN = ("char", "word", "smiles")
UNK_TEXT = SPECIALS[Vocabulary.unk_id]  # "<unk>": how a decoding writes the unknown token, and read back as it


def join_words(tokens: Sequence[str]) -> str:
    """Word tokens as text: spaces between them, none before closing punctuation or after an opening bracket."""
    out: list[str] = []
    for i, token in enumerate(tokens):
        if i and token not in NO_SPACE_BEFORE and tokens[i - 1] not in NO_SPACE_AFTER:
            out.append(" ")
        out.append(token)
    return "".join(out)


class Splitter:
    """Text -> token strings and back, without a vocabulary."""

    def __init__(self, name: str, lowercase: bool = False, tokenizer_json: str | None = None) -> None:
        self.name = name
        self.lowercase = lowercase
        self.hf = hf_tokenizer(tokenizer_json) if name == "huggingface" else None

    def split(self, text: str) -> list[str]:
        """The token strings of `text`. The text "<unk>" (what `Tokenizer.decode` writes for the unknown token, and
        how corpora such as the Penn Treebank mark rare words) is one token, which every vocabulary reads as <unk>:
        a decoded sentence reads back as its own tokens."""
        if self.lowercase:
            text = text.lower()
        parts = text.split(UNK_TEXT)
        tokens = self._split(parts[0])
        for part in parts[1:]:
            tokens += [UNK_TEXT, *self._split(part)]
        return tokens

    def _split(self, text: str) -> list[str]:
        if self.name == "char":
            return list(text)
        if self.name == "word":
            return WORD_PATTERN.findall(text)
        if self.name == "smiles":
            return SMILES_PATTERN.findall(text)
        return self.hf.encode(text, add_special_tokens=False).tokens

    def join(self, tokens: Sequence[str]) -> str:
        if self.name in ("char", "smiles"):
            return "".join(tokens)
        if self.name == "word":
            return join_words(tokens)
        # Hugging Face: runs of its own tokens decoded by its decoder, our specials (<unk>) written as they are
        pieces, run = [], []
        for token in [*tokens, None]:
            hf_id = self.hf.token_to_id(token) if token is not None else None
            if hf_id is not None:
                run.append(hf_id)
                continue
            if run:
                pieces.append(self.hf.decode(run, skip_special_tokens=False))
                run = []
            if token is not None:
                pieces.append(token)
        return " ".join(p.strip() for p in pieces if p.strip())


def hf_tokenizer(tokenizer_json: str | None):
    """A `tokenizers.Tokenizer` from its JSON text (parsed, never executed)."""
    try:
        from tokenizers import Tokenizer
    except ImportError as exc:  # pragma: no cover - a dependency
        why = f"a Hugging Face tokenizer needs the `tokenizers` package ({exc}). Fix: pip install tokenizers"
        raise DataError(why) from None
    try:
        return Tokenizer.from_str(tokenizer_json or "")
    except Exception as exc:  # tokenizers raises its own Exception subclass for malformed files
        raise DataError(f"the Hugging Face tokenizer JSON cannot be read ({str(exc)[:200]}).") from None


def read_tokenizer_file(path: str | Path) -> str:
    """The JSON text of a tokenizer.json, checked to load; a DataError naming the file otherwise."""
    path = Path(path).expanduser()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(
            f"data.tokenizer names '{path}', which cannot be read ({exc}). Give char, word, smiles, or the path of a "
            "Hugging Face tokenizer.json."
        ) from None
    try:
        hf_tokenizer(text)
    except DataError as exc:
        raise DataError(f"'{path}' is not a Hugging Face tokenizer file: {exc}") from None
    return text


def build_vocabulary(
    train_tokens: Iterable[Sequence[str]],
    tokenizer: str,
    vocab_size: int = 0,
    lowercase: bool = False,
    tokenizer_json: str | None = None,
) -> Vocabulary:
    """The four specials, then the training split's tokens by frequency (ties in string order), at most
    `vocab_size` tokens in all (0: every token seen)."""
    counts = Counter(t for tokens in train_tokens for t in tokens if t not in SPECIALS)
    ranked = sorted(counts, key=lambda t: (-counts[t], t))
    if vocab_size:
        ranked = ranked[: max(0, vocab_size - len(SPECIALS))]
    return Vocabulary(SPECIALS + tuple(ranked), tokenizer, tokenizer_json, lowercase)


class Tokenizer:
    """Encode text to a vocabulary's ids (no specials; unknown tokens -> <unk>) and decode ids to text."""

    def __init__(self, vocabulary: Vocabulary) -> None:
        self.vocabulary = vocabulary
        self.splitter = Splitter(vocabulary.tokenizer, vocabulary.lowercase, vocabulary.tokenizer_json)
        # a token spelled like a special (a Hugging Face "<pad>") is unknown text, never a special id
        self.ids = {t: i for i, t in enumerate(vocabulary.tokens) if i >= len(SPECIALS)}

    def split(self, text: str) -> list[str]:
        return self.splitter.split(text)

    def lookup(self, tokens: Iterable[str]) -> list[int]:
        return [self.ids.get(t, Vocabulary.unk_id) for t in tokens]

    def encode(self, text: str) -> list[int]:
        """Token ids of `text`, without <bos> or <eos>."""
        return self.lookup(self.split(text))

    def decode(self, ids: Iterable[int]) -> str:
        """Text of token ids: stops at <eos>, skips <pad> and <bos>; <unk> is written as "<unk>"."""
        tokens = []
        for i in ids:
            i = int(i)
            if i == Vocabulary.eos_id:
                break
            if i in (Vocabulary.pad_id, Vocabulary.bos_id):
                continue
            tokens.append(self.vocabulary.tokens[i] if 0 <= i < len(self.vocabulary) else SPECIALS[Vocabulary.unk_id])
        return self.splitter.join(tokens)


@functools.lru_cache(maxsize=8)
def tokenizer_for(vocabulary: Vocabulary) -> Tokenizer:
    """The tokenizer of a run's vocabulary (cached: a Hugging Face tokenizer is parsed once)."""
    return Tokenizer(vocabulary)
