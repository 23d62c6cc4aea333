"""Reference-based text metrics, computed the way promptfoo 0.123.1 computes them.

Pure functions on strings: no pytest, standard library only (JavaScript's whitespace comes
from ``jscompat``). Each one names the published formula it implements and says where
promptfoo departs from the usual reference implementation (nltk, Google's rouge-score),
because a promptfoo config must get promptfoo's numbers, not the textbook's.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence

from ...jscompat.values import JS_WHITESPACE, JS_WHITESPACE_RUN, js_trim

BLEU_WEIGHTS = (0.25, 0.25, 0.25, 0.25)
BLEU_ZERO_PRECISION = 1e-7  # promptfoo's stand-in for a zero n-gram precision


def whitespace_words(text: str) -> list[str]:
    """promptfoo's BLEU/GLEU tokens: ``text.toLowerCase().trim().split(/\\s+/)``.

    Like JavaScript's ``split``, an empty string gives ``[""]``, one empty token.
    """
    return JS_WHITESPACE_RUN.split(js_trim(text.lower()))


def ngrams(tokens: Sequence[str], n: int) -> list[tuple[str, ...]]:
    """The contiguous n-grams of ``tokens`` in order; none when there are fewer than ``n``."""
    if n <= 0 or n > len(tokens):
        return []
    return [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]


def clipped_overlap(candidate: Sequence[tuple[str, ...]], reference: Sequence[tuple[str, ...]]) -> int:
    """Matches counted at most as often as the reference has them (Papineni et al. 2002, §2.1)."""
    wanted = Counter(reference)
    return sum(min(count, wanted[gram]) for gram, count in Counter(candidate).items())


# --- BLEU ----------------------------------------------------------------------------------


def brevity_penalty(candidate_length: int, reference_length: int) -> float:
    """BP = 1 if c > r else exp(1 - r/c) (Papineni et al. 2002, §2.2.2)."""
    if candidate_length > reference_length:
        return 1.0
    return math.exp(1 - reference_length / candidate_length)


def closest_reference_length(candidate_length: int, reference_lengths: Sequence[int]) -> int:
    """The reference length nearest the candidate's; on a tie the shorter one (as nltk and promptfoo)."""
    return min(reference_lengths, key=lambda length: (abs(length - candidate_length), length))


def bleu(candidate: str, references: Sequence[str], weights: Sequence[float] = BLEU_WEIGHTS) -> float:
    """Sentence BLEU with promptfoo's choices.

    BLEU = BP * exp(sum_n w_n * log p_n) over n = 1..4 (Papineni et al. 2002), on
    lower-cased whitespace tokens, where promptfoo differs from nltk's ``sentence_bleu``:

    - an order the candidate is too short to have (e.g. 4-grams of a 3-word answer) is
      left out and the remaining weights are rescaled to sum to 1 (nltk scores it 0);
    - a zero precision counts as 1e-7 instead of zeroing the score (nltk's default);
    - with several references, p_n is the best single reference's clipped precision,
      not the candidate's counts clipped by the maximum count over all references.

    An empty (or whitespace-only) candidate scores 0.
    """
    if not references:
        raise ValueError("BLEU needs at least one reference")
    if len(weights) != 4 or any(w < 0 for w in weights) or abs(sum(weights) - 1) > 1e-4:
        raise ValueError("BLEU weights must be four non-negative numbers summing to 1")
    if not js_trim(candidate):
        return 0.0
    words = whitespace_words(candidate)
    reference_words = [whitespace_words(reference) for reference in references]
    closest = closest_reference_length(len(words), [len(ref) for ref in reference_words])
    orders: list[tuple[float, float]] = []  # (precision, weight) for orders the candidate has
    for n in range(1, 5):
        grams = ngrams(words, n)
        if not grams:
            continue
        best = max(clipped_overlap(grams, ngrams(ref, n)) for ref in reference_words)
        orders.append((best / len(grams), weights[n - 1]))
    weight_sum = sum(weight for _, weight in orders)
    if weight_sum == 0:
        return 0.0
    log_mean = sum(weight / weight_sum * math.log(precision or BLEU_ZERO_PRECISION) for precision, weight in orders)
    return brevity_penalty(len(words), closest) * math.exp(log_mean)


# --- GLEU ----------------------------------------------------------------------------------


def gleu_words(text: str) -> list[str]:
    """promptfoo's GLEU tokens: BLEU's, each with trailing full stops removed.

    A text with no word left (say ``"..."``) has no tokens at all.
    """
    words = [word.rstrip(".") for word in whitespace_words(text)]
    return words if any(words) else []


def gleu(candidate: str, references: Sequence[str], min_n: int = 1, max_n: int = 4) -> float:
    """Google-BLEU (Wu et al. 2016, §8): min(precision, recall) of all n-grams, n = 1..4.

    Matches are clipped counts summed over the orders; precision divides by the
    candidate's n-gram total, recall by the reference's. Scored against each reference
    and the best kept. As in promptfoo, a candidate identical to a reference (after
    tokenising) scores 1; one with no tokens scores 0. On the same tokens nltk's
    ``sentence_gleu`` gives the same value (it computes tp / max(tpfp, tpfn)).
    """
    if not references:
        raise ValueError("GLEU needs at least one reference")
    words = gleu_words(candidate)
    if not words:
        return 0.0
    return max(_gleu_single(words, gleu_words(reference), min_n, max_n) for reference in references)


def _gleu_single(words: list[str], reference: list[str], min_n: int, max_n: int) -> float:
    if words == reference:
        return 1.0
    matches = candidate_total = reference_total = 0
    for n in range(min_n, max_n + 1):
        grams, reference_grams = ngrams(words, n), ngrams(reference, n)
        matches += clipped_overlap(grams, reference_grams)
        candidate_total += len(grams)
        reference_total += len(reference_grams)
    if candidate_total == 0 or reference_total == 0:
        return 0.0
    return min(matches / candidate_total, matches / reference_total)


# --- ROUGE-N ---------------------------------------------------------------------------------


def f_measure(precision: float, recall: float, beta: float = 1.0) -> float:
    """F-beta = (1 + b^2) P R / (b^2 P + R) (van Rijsbergen 1979).

    Arranged as js-rouge's ``fMeasure`` arranges it (scaled by the smaller score, equal
    inputs returned as they are) so the last bit of a float agrees with promptfoo.
    """
    if precision == recall:
        return precision
    if precision == 0 or recall == 0:
        return 0.0
    if beta < 1:
        return f_measure(recall, precision, 1 / beta)
    if precision > recall:
        weight = (1 / beta) ** 2
        return min(precision, recall * ((1 + weight) / (1 + weight * (recall / precision))))
    weight = beta * beta
    return min(recall, precision * ((1 + weight) / (1 + weight * (precision / recall))))


def rouge_n(candidate: str, reference: str, n: int = 1) -> float:
    """ROUGE-N F1 (Lin 2004) on Penn Treebank tokens, as promptfoo's ``rouge-n`` computes it.

    overlap = clipped n-gram matches; P = overlap / candidate n-grams, R = overlap /
    reference n-grams; the score is F1 of P and R. promptfoo lower-cases both texts first
    (the caller does that here too) and uses js-rouge's tokenizer, ported below. Google's
    rouge-score agrees on plain alphanumeric text; it tokenises differently (it drops
    punctuation, which the Treebank tokenizer keeps as tokens). Either text shorter than
    ``n`` tokens scores 0, even when both are empty.
    """
    candidate_tokens, reference_tokens = treebank_tokenize(candidate), treebank_tokenize(reference)
    if len(candidate_tokens) < n or len(reference_tokens) < n:
        return 0.0
    grams, reference_grams = ngrams(candidate_tokens, n), ngrams(reference_tokens, n)
    overlap = clipped_overlap(grams, reference_grams)
    if overlap == 0:
        return 0.0
    return f_measure(overlap / len(grams), overlap / len(reference_grams))


# --- The Penn Treebank tokenizer of js-rouge 3.2 ------------------------------------------------
# A port of js-rouge's ``treeBankTokenize`` (itself after the Penn Treebank sed script), kept
# rule for rule so that ROUGE scores agree with promptfoo's on punctuation, quotes and
# contractions. Unicode property classes (\p{...}) become unicodedata category tests.


def _category_in(char: str, prefixes: tuple[str, ...]) -> bool:
    return bool(char) and len(char) == 1 and unicodedata.category(char).startswith(prefixes)


# Other_ID_Start / Other_ID_Continue code points (Unicode PropList), which are ID_Continue
# without being in the categories below.
_OTHER_ID_CONTINUE = set("\u1885\u1886\u2118\u212e\u309b\u309c\u00b7\u0387\u19da") | {chr(c) for c in range(0x1369, 0x1372)}
_ID_CONTINUE_CATEGORIES = ("Lu", "Ll", "Lt", "Lm", "Lo", "Nl", "Mn", "Mc", "Nd", "Pc")


def _word_character(char: str) -> bool:
    """js-rouge's ``[\\p{ID_Continue}\\u200c\\u200d]``, the edge of a contraction."""
    return char in ("\u200c", "\u200d") or char in _OTHER_ID_CONTINUE or _category_in(char, _ID_CONTINUE_CATEGORIES)


def _is_alphabetic_footnote(text: str, index: int) -> bool:
    """A compatibility modifier letter (say ``ᵃ``) at ``index + 1`` used as a footnote mark."""
    following = text[index + 1 : index + 2]
    if not following or following == unicodedata.normalize("NFKC", following) or not _category_in(following, ("Lm",)):
        return False
    after = text[index + 2 : index + 3]
    return after == "" or after in " .,;:!?\"'“‘”’])}>" or bool(JS_WHITESPACE_RUN.fullmatch(after))


def _follows_quoted_modifier(text: str, index: int) -> bool:
    """``."ᵃ"``: a footnote letter (and digits) after a closed quotation is a marker, not a word."""
    modifier = text[index - 1 : index] if index > 0 else ""
    if not _category_in(modifier, ("Lm",)) or not _is_alphabetic_footnote(text, index - 2):
        return False
    start = index - 1
    while start > 0 and _category_in(text[start - 1], ("N",)):
        start -= 1
    return bool(re.search(r"[.!?][\"'”’]$", text[max(0, start - 2) : start]))


def _quote_may_open(text: str, index: int, inside: bool) -> bool:
    if inside:
        return False
    if index == 0:
        return True
    before = text[index - 1]
    return (
        before == "<"
        or bool(JS_WHITESPACE_RUN.fullmatch(before))
        or _category_in(before, ("P",))
        or text[max(0, index - 2) : index] == "``"
        or _follows_quoted_modifier(text, index)
    )


def _classify_quotes(text: str) -> str:
    """Turn each ``"``, ``````` and ``''`` into an opening ````` or closing ``''`` token."""
    inside = False

    def replace(match: re.Match[str]) -> str:
        nonlocal inside
        quote, index = match.group(), match.start()
        before = text[index - 1] if index > 0 else ""
        if quote == "``":
            inside = True
        else:
            after = text[index + 2 : index + 3]
            next_quote = re.search(r"``|''|\"", text[index + 2 :])
            inside = (
                (index + len(quote) < len(text) or index == 0 or bool(JS_WHITESPACE_RUN.fullmatch(before)) or before == "<"
                 or _category_in(before, ("Ps",)))
                and _quote_may_open(text, index, inside)
                and before not in (".", "!", "?")
                and (quote == '"' or (index > 0 and _category_in(after, ("L", "N", "Sc", "Ps"))
                                      and next_quote is not None and next_quote.group() == "''"))
            )
        return " `` " if inside else " '' "

    return re.sub(r"``|''|\"", replace, text)


_CONTRACTIONS = [re.compile(pattern, re.IGNORECASE) for pattern in (
    r"(can)(not)", r"(d)('ye)", r"(gim)(me)", r"(gon)(na)", r"(got)(ta)", r"(lem)(me)", r"(more)('n)",
    r"(wan)(na)(?= )", r"('t)(is)", r"('t)(was)",
)]


def _split_contraction(pattern: re.Pattern[str], text: str) -> str:
    """``cannot`` -> ``can not`` where the match is a whole word (not inside ``cannots``)."""

    def replace(match: re.Match[str]) -> str:
        before = text[match.start() - 1] if match.start() > 0 else ""
        after = text[match.end() : match.end() + 1]
        if _word_character(before) or _word_character(after):
            return match.group()
        return f" {match.group(1)} {match.group(2)} "

    return pattern.sub(replace, text)


_PUNCTUATION_RULES: list[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]] = [
    (re.compile(r"\.{3}"), " ... "),
    (re.compile(r"[:,](?!\d)"), r" \g<0> "),  # \d is Unicode Nd here, like \p{Decimal_Number}
    (re.compile(r"[;@#$%&]"), r" \g<0> "),
    # A final full stop, unless it ends an abbreviation such as "u.s." (ASCII \b, as in JS).
    (re.compile(r"([^.])(?<!\b[A-Za-z]\.[A-Za-z])(\.)([\])}>' ]*)\Z", re.ASCII), r"\1 \2\3 "),
    (re.compile(r"[?!]"), r" \g<0> "),
    (re.compile(r"[\][(){}<>]"), r" \g<0> "),
    (re.compile(r"--"), " -- "),
]
_CLITIC_RULES = [
    (re.compile(r"([^'])' "), r"\1 ' "),
    (re.compile(r"'([sSmMdD]) "), r" '\1 "),
    (re.compile(r"('ll|'LL|'re|'RE|'ve|'VE|n't|N'T) "), r" \1 "),
]


# What treebank_tokenize collapses to one space: JavaScript's whitespace and U+0085 (NEL).
_TREEBANK_SPACES = re.compile(f"[{re.escape(JS_WHITESPACE)}\u0085]+")


def treebank_tokenize(text: str) -> list[str]:
    """Split a sentence into Penn Treebank tokens: punctuation, quotes and clitics apart.

    ``"Don't stop," she said.`` -> ````` ``Do`` ``n't`` ``stop`` ``,`` ``''`` ``she`` ``said`` ``.``.
    """
    text = _TREEBANK_SPACES.sub(" ", text).strip(" ")
    if not text:
        return []
    parsed = _classify_quotes(text)
    for pattern, replacement in _PUNCTUATION_RULES:
        parsed = pattern.sub(replacement, parsed)
    parsed = f" {parsed} "
    for pattern, replacement in _CLITIC_RULES:
        parsed = pattern.sub(replacement, parsed)
    for contraction in _CONTRACTIONS:
        parsed = _split_contraction(contraction, parsed)
    parsed = re.sub(r" {2,}", " ", parsed)
    parsed = re.sub(r"^ | $", "", parsed)
    return parsed.split(" ")
