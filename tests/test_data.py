"""The real IMDB data, offline, split the same way on every machine."""

import pytest

from rnndemo import data


def test_reviews_are_read_offline_from_the_package():
    reviews = data.load_reviews()
    counts = reviews.groupby(["source", "label"]).size().to_dict()
    assert counts == {
        ("imdb", 0): 12500,
        ("imdb", 1): 12500,
        ("rotten_tomatoes", 0): 4265,
        ("rotten_tomatoes", 1): 4265,
    }


def test_split_is_stratified_disjoint_and_fixed():
    splits = data.load_splits()
    assert len(splits.test) == 2500 and splits.test["label"].mean() == 0.5
    assert len(splits.validation) == 2500
    train, validation, test = (set(frame["text"]) for frame in (splits.train, splits.validation, splits.test))
    assert not (train & test) and not (train & validation) and not (validation & test)
    assert len(splits.train) + 5000 + splits.duplicates_dropped == 25000
    # The same reviews on every machine: this checksum is also in models/manifest.json.
    assert splits.test_checksum() == "aa5019fc7d6c47ce0a8222a549281a66bdd679952c7b2c38c8077816cf367302"


def test_split_ignores_input_order():
    reviews = data.load_reviews()
    imdb = reviews[reviews["source"] == "imdb"][["text", "label"]]
    first = data.split_reviews(imdb.iloc[:3000])
    shuffled = data.split_reviews(imdb.iloc[:3000].sample(frac=1.0, random_state=5))
    assert first[2]["text"].tolist() == shuffled[2]["text"].tolist()


def test_samples_come_from_held_out_data():
    test_texts = set(data.load_splits().test["text"])
    for kind in ("positive", "negative", "random"):
        assert set(data.sample_reviews(kind, 3, seed=1)) <= test_texts
    assert len(data.sample_reviews("rotten_tomatoes", 2)) == 2


@pytest.mark.slow
def test_concurrent_first_lookups_read_the_dataset_once(monkeypatch):
    """Ten sessions pasting into a fresh server at once: one read of the dataset, not one per session thread."""
    import threading
    import time

    reads = []
    read_csv = data.pd.read_csv

    def slow_counted_read(*arguments, **keywords):
        reads.append(threading.current_thread().name)
        time.sleep(0.3)  # a real read takes about a second: every thread arrives while it runs
        return read_csv(*arguments, **keywords)

    monkeypatch.setattr(data.pd, "read_csv", slow_counted_read)
    for cached in (data.load_reviews, data.load_splits, data._labels_by_text):
        cached.cache_clear()
    review = data.load_reviews.__wrapped__().query("source == 'rotten_tomatoes'")["text"].iloc[0]
    reads.clear()
    found = []
    threads = [threading.Thread(target=lambda: found.append(data.true_label(review))) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(reads) == 1, reads
    assert len(found) == 10 and len({id(label) for label in found}) == 1
    assert found[0].source == "in the Rotten Tomatoes sentences"


def test_the_lesson_samples_are_the_texts_teaching_md_names():
    """The slide's excerpt is the start of the full Bait review, which is in the train split; the contrasts are
    the test reviews TEACHING.md quotes, with their labels; the negation pair mirrors itself."""
    from rnndemo.text import DEFAULT_TEXT

    from .conftest import PROJECT_ROOT

    samples = data.lesson_samples()
    assert list(samples) == list(data.LESSON_SAMPLE_NAMES)
    full = samples[data.BAIT_FULL]
    assert samples[data.BAIT_EXCERPT] == DEFAULT_TEXT and len(DEFAULT_TEXT) == 594
    assert data.flattened(full)[: len(DEFAULT_TEXT)] == DEFAULT_TEXT and len(full) == 1104
    splits = data.load_splits()
    assert full in set(splits.train["text"])
    assert full not in set(splits.test["text"]) and full not in set(splits.validation["text"])
    teaching = " ".join(line.strip().lstrip(">").strip() for line in (PROJECT_ROOT / "docs/TEACHING.md").open())
    labels = {1: 1, 2: 0, 3: 1}  # as TEACHING.md says: positive, negative, positive
    for contrast in data.CONTRASTS:
        text = samples[contrast.name]
        assert text == splits.test["text"].iloc[contrast.test_position]
        assert data.true_label(text).label == labels[contrast.number]
        assert f"test review {contrast.test_position}" in teaching
        assert text[:70] in teaching, contrast.name  # the text the lesson tells the teacher to paste (or its start)
    negations = [samples[name] for name in data.LESSON_SAMPLE_NAMES[-2:]]
    assert negations == ["Not bad at all, actually quite good.", "Not good at all, actually quite bad."]
    for name, text in samples.items():
        assert data.lesson_sample_name(text) == name


def test_the_train_split_lookup_finds_whole_reviews_and_their_starts():
    """A training review, with or without its line breaks, or its first sentences, are found; test reviews
    and short texts are not; the lesson's excerpt is what a lookup of its text finds."""
    full = data.lesson_samples()[data.BAIT_FULL]
    found = data.training_source(full)
    assert found.whole and data.load_splits().train["text"].iloc[found.position] == full
    assert data.training_source(full.replace("<br /><br />", "\n")).whole
    start = data.training_source(full[:300])
    assert start == data.TrainingSource(whole=False, position=found.position)
    looked_up = data.training_source(" " + data.lesson_samples()[data.BAIT_EXCERPT])  # not the named text
    assert looked_up.whole == data.LESSON_SOURCE.whole and looked_up.position == found.position
    assert data.training_source(data.lesson_samples()[data.CONTRASTS[0].name]) is None  # a test review
    assert data.training_source(full[:40]) is None  # too short to call it a review's start
    assert data.training_source("") is None
