"""Export the recurrent models as TensorFlow SavedModels for TF Serving."""

from __future__ import annotations

from pathlib import Path


def export_saved_models(bundle, output: Path) -> dict[str, Path]:
    """Write one SavedModel per recurrent model (signature `serve`: int32 token ids (batch, time) -> p(positive))."""
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    written = {}
    for name, classifier in bundle.classifiers.items():
        target = output / name / "1"  # TF Serving expects numbered versions
        classifier.model.export(str(target), format="tf_saved_model", verbose=False)
        written[name] = target
    return written


def load_saved_model(path: Path):
    """An exported SavedModel; call its `.serve(ids)` as TF Serving would. Keep the object alive while calling."""
    import tensorflow as tf

    return tf.saved_model.load(str(path))
