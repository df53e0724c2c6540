"""`python -m rnndemo export`: SavedModels for TF Serving give the same probabilities as the app."""

import numpy as np
import pytest

from rnndemo import data
from rnndemo.export import export_saved_models, load_saved_model
from rnndemo.vocab import pad_batch


@pytest.mark.slow
def test_exported_saved_models_match_serving(bundle, tmp_path):
    written = export_saved_models(bundle, tmp_path / "export")
    texts = data.sample_reviews("random", 8, seed=9)
    for name, path in written.items():
        classifier = bundle.classifiers[name]
        expected = classifier.predict_texts(texts)
        ids = [classifier.encode(text)[1] for text in texts]
        saved_model = load_saved_model(path)
        exported = saved_model.serve(pad_batch(ids, max(len(i) for i in ids))).numpy()[:, 0]
        np.testing.assert_allclose(exported, expected, atol=1e-5)
        assert (path / "saved_model.pb").is_file()
