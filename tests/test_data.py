"""The real IMDB data, offline, split the same way on every machine."""

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
