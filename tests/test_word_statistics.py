"""The train split's word counts behind the "why it said that" card: counted per review, from the train split
alone, written with the models and verified on load like every artifact."""

import json
import shutil

import numpy as np
import pytest

from rnndemo import models, word_statistics
from rnndemo.vocab import Vocabulary

from .conftest import MODELS_DIR

VOCABULARY = Vocabulary(["", "[UNK]", "good", "bad", "film"])


def test_a_word_counts_once_per_review_and_padding_and_unknown_words_not_at_all():
    statistics = word_statistics.count(
        [["good", "good", "film"], ["bad", "film", "zzz"], ["good"]], [1, 0, 0], VOCABULARY
    )
    assert statistics.containing.tolist() == [0, 0, 2, 1, 2] and statistics.positive.tolist() == [0, 0, 1, 0, 1]
    assert (statistics.reviews, statistics.positive_reviews) == (3, 1)
    assert statistics.of("good") == word_statistics.WordCount("good", 2, 1)
    assert statistics.of("good").positive_share == 0.5
    assert statistics.of("zzz") is None and statistics.of("[UNK]") is None


def test_a_file_that_does_not_fit_the_vocabulary_is_refused():
    good = word_statistics.count([["good"]], [1], VOCABULARY).to_json()
    assert word_statistics.from_json(good, VOCABULARY).of("good").reviews == 1
    for broken in (
        good | {"containing": [0, 0, 1]},  # another vocabulary
        good | {"positive": [0, 0, 2, 0, 0]},  # more positive reviews than reviews
        good | {"reviews": -1},
        [1, 2, 3],
    ):
        with pytest.raises(models.ModelFileError, match="word_statistics.json is not shaped like word statistics"):
            word_statistics.from_json(broken, VOCABULARY)


@pytest.mark.slow
def test_the_committed_file_is_the_train_split_counted_again(bundle):
    """The shipped counts are what counting the train split (never validation or test) gives now."""
    shipped = word_statistics.load(MODELS_DIR, bundle.manifest, bundle.vocabulary)
    recounted = word_statistics.training_split_statistics(bundle.vocabulary)
    np.testing.assert_array_equal(shipped.containing, recounted.containing)
    np.testing.assert_array_equal(shipped.positive, recounted.positive)
    assert (shipped.reviews, shipped.positive_reviews) == (recounted.reviews, recounted.positive_reviews)
    assert shipped.reviews == bundle.manifest["split"]["train"]


def test_a_tampered_file_is_refused_by_name(tmp_path, bundle):
    copy = tmp_path / "models"
    copy.mkdir()
    for name in (models.MANIFEST_FILE, models.VOCABULARY_FILE, word_statistics.FILE):
        shutil.copy2(MODELS_DIR / name, copy / name)
    planted = json.loads((copy / word_statistics.FILE).read_text()) | {"reviews": 1}
    (copy / word_statistics.FILE).write_text(json.dumps(planted))
    with pytest.raises(models.ModelFileError, match="word_statistics.json does not match its sha256"):
        word_statistics.load(copy, models.read_manifest(copy), bundle.vocabulary)
    (copy / word_statistics.FILE).unlink()
    assert word_statistics.load(copy, models.read_manifest(copy), bundle.vocabulary) is None
