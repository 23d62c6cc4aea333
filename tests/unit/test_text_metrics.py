"""The text metrics against the well-known implementations, and against promptfoo where it differs.

Reference values come from two places:

- nltk (BLEU, GLEU) and Google's rouge-score (ROUGE-N), computed here; those tests are
  skipped when the dev dependencies are not installed.
- promptfoo 0.123.1 itself, where its formula deliberately departs from those libraries.
  Those numbers are pinned as constants. They were obtained by running promptfoo's own
  code with node 22: ``require("promptfoo").assertions.runAssertion({assertion: {type,
  value}, test: {vars: {}}, providerResponse: {output}})`` and reading ``score``, and
  ``require("js-rouge").treeBankTokenize(text)`` for the tokenizer. The same harness,
  run on 30,000 random inputs (quotes, contractions, abbreviations, Unicode), found no
  difference beyond a last-bit difference of ``Math.log``/``Math.exp`` against Python's.
"""

from __future__ import annotations

import pytest

from pytest_replicate.assertions.checks.text_metrics import (
    bleu,
    brevity_penalty,
    f_measure,
    gleu,
    gleu_words,
    ngrams,
    rouge_n,
    treebank_tokenize,
    whitespace_words,
)

# Single-reference pairs on which every n-gram precision (n = 1..4) is above zero, so
# promptfoo's smoothing and order-skipping never apply and plain sentence BLEU must agree.
PLAIN_BLEU_PAIRS = [
    ("the quick brown fox jumps over the lazy dog", "the quick brown fox jumped over the lazy dog"),
    (
        "It is a guide to action which ensures that the military always obeys the commands of the party",
        "It is a guide to action that ensures that the military will forever heed Party commands",
    ),
    ("the cat sat on the mat", "the cat sat on the mat by the door"),  # shorter: brevity penalty
    ("Paris is the capital of France", "The capital of France is Paris"),
]

# promptfoo 0.123.1 scores (see the module docstring for how they were obtained).
PROMPTFOO_BLEU = [
    # Several references: each scored alone, the best clipped count per order kept.
    ("the cat is on the mat", ["the cat sat on the mat", "there is a cat on the mat"], 0.010573712634405643),
    # Three words: no 4-grams, so that order is dropped and 1..3 reweighted (nltk: 0).
    ("the cat sat", ["the cat sat on the mat"], 0.36787944117144233),
    # No match at all: each zero precision counts as 1e-7 (nltk: 0).
    ("a dog ran away quickly", ["the cat sat on the mat"], 8.187307530779814e-08),
    ("The capital of France is Paris", ["Paris is the capital of France"], 0.5623413251903491),
    # An empty reference is one empty token.
    ("anything here", [""], 9.999999999999994e-08),
]
PROMPTFOO_GLEU = [
    ("the cat sat on a mat.", ["the cat sat on the mat", "a cat sat on a mat"], 0.7777777777777778),
    ("the cat sat on the mat", ["The cat sat on the mat."], 1.0),  # trailing full stops dropped
    ("...", ["..."], 0.0),  # no word left: no n-grams, even for identical texts
]
PROMPTFOO_ROUGE_N = [  # both texts lower-cased first, as promptfoo's assertion does
    ("the cat is on the mat", "The cat sat on the mat.", 0.7692307692307692),  # "." is a token
    ('"Do not stop," she said', "Don't stop, she said.", 0.6666666666666666),
    ("the", "the the the", 0.5),  # clipped counts: one "the" matches
    ("", "", 0.0),
]
JS_ROUGE_TOKENS = [
    ("Don't stop, she said.", ["Do", "n't", "stop", ",", "she", "said", "."]),
    ('He said "hi." "ᵃ" ok', ["He", "said", "``", "hi.", "''", "``", "ᵃ", "''", "ok"]),
    ('end."ᵃ" x', ["end.", "''", "ᵃ", "``", "x"]),
    ("a ''b'' c", ["a", "``", "b", "''", "c"]),
    ('x"y"z', ["x", "''", "y", "''", "z"]),
    ("(“quoted”) ok.", ["(", "“quoted”", ")", "ok", "."]),
    ("U.S. A.", ["U.S.", "A", "."]),
    ("the u.s.", ["the", "u.s."]),
    ("Mr. Smith.", ["Mr.", "Smith", "."]),
    ("it's cannot’s", ["it", "'s", "can", "not", "’s"]),
    ("'Tis 'twas", ["'T", "is", "'t", "was"]),
    ("GONNA go", ["GON", "NA", "go"]),
    ("wanna", ["wan", "na"]),
    ("x -- y---z", ["x", "--", "y", "--", "-z"]),
    ("1,000,000 and 3:45: x,y", ["1,000,000", "and", "3:45", ":", "x", ",", "y"]),
    ("e.g. ...", ["e.g.", "..."]),
    ("  \t ", []),
]


def _nltk_bleu():
    bleu_score = pytest.importorskip("nltk.translate.bleu_score", reason="nltk (a dev dependency) is not installed")
    return bleu_score.sentence_bleu


@pytest.mark.parametrize("candidate, reference", PLAIN_BLEU_PAIRS)
def test_bleu_equals_nltk_sentence_bleu_when_every_order_matches(candidate: str, reference: str) -> None:
    sentence_bleu = _nltk_bleu()
    expected = sentence_bleu([reference.lower().split()], candidate.lower().split())
    assert expected > 0
    assert bleu(candidate, [reference]) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("candidate, references, expected", PROMPTFOO_BLEU)
def test_bleu_gives_promptfoos_score(candidate: str, references: list[str], expected: float) -> None:
    assert bleu(candidate, references) == pytest.approx(expected, rel=1e-12)


def test_bleu_departs_from_nltk_where_promptfoo_does() -> None:
    """Documents why the pinned values above cannot come from nltk."""
    sentence_bleu = _nltk_bleu()
    candidate, references, promptfoo_score = PROMPTFOO_BLEU[0]
    with pytest.warns(UserWarning):  # nltk: "0 counts of 4-gram overlaps"
        nltk_score = sentence_bleu([r.split() for r in references], candidate.split())
    assert nltk_score < 1e-70 < promptfoo_score


def test_bleu_of_an_identical_text_is_one_and_of_an_empty_candidate_zero() -> None:
    assert bleu("The cat sat on the mat", ["the  cat sat on the mat "]) == pytest.approx(1.0)
    assert bleu("   ", ["the cat"]) == 0.0


def test_bleu_rejects_no_references_and_bad_weights() -> None:
    with pytest.raises(ValueError):
        bleu("a", [])
    with pytest.raises(ValueError):
        bleu("a", ["a"], weights=(0.5, 0.5, 0.5, 0.5))


def test_brevity_penalty_follows_papineni() -> None:
    assert brevity_penalty(10, 9) == 1.0
    assert brevity_penalty(5, 10) == pytest.approx(0.36787944117144233)  # exp(1 - 10/5)


PLAIN_GLEU_PAIRS = [
    ("the cat sat on a mat", ["the cat sat on the mat", "a cat sat on a mat"]),
    ("he read the book because he was interested in world history",
     ["he was interested in world history because he read the book"]),
    ("completely unrelated words", ["the cat sat on the mat"]),
    ("the cat", ["the cat sat on the mat"]),
]


@pytest.mark.parametrize("candidate, references", PLAIN_GLEU_PAIRS)
def test_gleu_equals_nltk_sentence_gleu(candidate: str, references: list[str]) -> None:
    gleu_score = pytest.importorskip("nltk.translate.gleu_score", reason="nltk (a dev dependency) is not installed")
    expected = gleu_score.sentence_gleu([gleu_words(r) for r in references], gleu_words(candidate))
    assert gleu(candidate, references) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("candidate, references, expected", PROMPTFOO_GLEU)
def test_gleu_gives_promptfoos_score(candidate: str, references: list[str], expected: float) -> None:
    assert gleu(candidate, references) == pytest.approx(expected, rel=1e-12)


PLAIN_ROUGE_PAIRS = [
    ("the cat is on the mat", "the cat sat on the mat"),
    ("the the the", "the cat"),
    ("police killed the gunman", "the gunman was shot down by police"),
    ("a b c d", "e f g"),
]


@pytest.mark.parametrize("candidate, reference", PLAIN_ROUGE_PAIRS)
def test_rouge_n_equals_google_rouge_score_on_plain_words(candidate: str, reference: str) -> None:
    rouge_scorer = pytest.importorskip("rouge_score.rouge_scorer", reason="rouge-score (a dev dependency) is not installed")
    expected = rouge_scorer.RougeScorer(["rouge1"]).score(reference, candidate)["rouge1"].fmeasure
    assert rouge_n(candidate, reference) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("candidate, reference, expected", PROMPTFOO_ROUGE_N)
def test_rouge_n_gives_promptfoos_score(candidate: str, reference: str, expected: float) -> None:
    assert rouge_n(candidate.lower(), reference.lower()) == expected


def test_rouge_n_of_higher_orders_uses_that_order() -> None:
    assert rouge_n("the cat sat", "the cat ran", n=2) == 0.5  # "the cat" of two bigrams each
    assert rouge_n("cat", "the cat", n=2) == 0.0  # too short for a bigram


@pytest.mark.parametrize("text, tokens", JS_ROUGE_TOKENS)
def test_treebank_tokenize_matches_js_rouge(text: str, tokens: list[str]) -> None:
    assert treebank_tokenize(text) == tokens


def test_f_measure_is_the_harmonic_mean_for_beta_one() -> None:
    assert f_measure(0.5, 0.25) == pytest.approx(2 * 0.5 * 0.25 / 0.75)
    assert f_measure(0.4, 0.4) == 0.4
    assert f_measure(0.0, 1.0) == 0.0


def test_whitespace_words_split_like_javascript() -> None:
    assert whitespace_words("  The\u00a0Cat\tsat ") == ["the", "cat", "sat"]
    assert whitespace_words("") == [""]  # "".split(/\s+/) in JavaScript
    assert gleu_words("Hello world...") == ["hello", "world"]
    assert gleu_words(". ..") == []


def test_ngrams_in_order() -> None:
    assert ngrams(["a", "b", "c"], 2) == [("a", "b"), ("b", "c")]
    assert ngrams(["a"], 2) == []
