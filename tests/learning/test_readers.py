import json

import h5py
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from models_app.learning.readers import (
    load_ground_truth,
    read_embeddings,
    read_keys_csv,
    read_label_file,
    read_text_embeddings,
)

KEYS = ["HnnBvemHrWA|0", "gOJJm_cSRds|3987", "mDViU8OSRkA|2222", "egB-SG97EcI|805"]


@pytest.fixture
def vectors():
    return np.random.default_rng(0).standard_normal((4, 6)).astype(np.float32)


def write_shot_data(path, keys):
    """VA's shot-data.csv: key, yt_id, frame_in, … columns."""
    lines = ["key,yt_id,desc,frame_in,frame_out,cluster_index"]
    lines += [f'{k},{k.split("|")[0]},"a, quoted desc",{k.split("|")[1]},99,0' for k in keys]
    path.write_text("\n".join(lines) + "\n")


def test_va_hdf5_layout_with_shot_data_csv(tmp_path, vectors):
    with h5py.File(tmp_path / "embeddings.h5", "w") as hf:
        hf.create_dataset("embeddings", data=vectors)
    write_shot_data(tmp_path / "shot-data.csv", KEYS)
    keys, got = read_embeddings(tmp_path / "embeddings.h5")
    assert keys == KEYS
    np.testing.assert_array_equal(got, vectors)


def test_hdf5_with_keys_dataset(tmp_path, vectors):
    with h5py.File(tmp_path / "emb.hdf5", "w") as hf:
        hf.create_dataset("embeddings", data=vectors.astype(np.float64))
        hf.create_dataset("keys", data=np.array(KEYS, dtype="S"))
    keys, got = read_embeddings(tmp_path / "emb.hdf5")
    assert keys == KEYS and got.dtype == np.float32
    np.testing.assert_allclose(got, vectors)


def test_npy_with_keys_csv(tmp_path, vectors):
    np.save(tmp_path / "vectors.npy", vectors)
    (tmp_path / "vectors.csv").write_text("key\n" + "\n".join(KEYS) + "\n")
    keys, got = read_embeddings(tmp_path / "vectors.npy")
    assert keys == KEYS
    np.testing.assert_array_equal(got, vectors)
    (tmp_path / "other.csv").write_text("yt_id,frame_in\n" + "\n".join(k.replace("|", ",") for k in KEYS) + "\n")
    assert read_embeddings(tmp_path / "vectors.npy", keys_path=tmp_path / "other.csv")[0] == KEYS
    (tmp_path / "short.csv").write_text("key\n" + "\n".join(KEYS[:3]) + "\n")
    with pytest.raises(ValueError, match="3 keys"):
        read_embeddings(tmp_path / "vectors.npy", keys_path=tmp_path / "short.csv")


def test_headerless_single_column_keys(tmp_path):
    (tmp_path / "k.csv").write_text("\n".join(KEYS) + "\n")
    assert read_keys_csv(tmp_path / "k.csv") == KEYS


def test_parquet_list_column_and_wide_columns(tmp_path, vectors):
    pq.write_table(pa.table({"key": KEYS, "embedding": [v.tolist() for v in vectors]}), tmp_path / "list.parquet")
    keys, got = read_embeddings(tmp_path / "list.parquet")
    assert keys == KEYS
    np.testing.assert_allclose(got, vectors)
    wide = {"yt_id": [k.split("|")[0] for k in KEYS], "frame_in": [int(k.split("|")[1]) for k in KEYS]}
    wide.update({f"d{i}": vectors[:, i] for i in range(vectors.shape[1])})
    pq.write_table(pa.table(wide), tmp_path / "wide.parquet")
    keys, got = read_embeddings(tmp_path / "wide.parquet")
    assert keys == KEYS
    np.testing.assert_allclose(got, vectors)


def test_label_files_both_formats(tmp_path):
    (tmp_path / "a.json").write_text(json.dumps({"pos": KEYS[:1], "neg": KEYS[1:]}))
    agg = {"primary": "B", "data": [{"key": KEYS[0], "agg": False, "pos_cnt": 0}, {"key": KEYS[2], "agg": True}]}
    (tmp_path / "b.json").write_text(json.dumps(agg))
    assert read_label_file(tmp_path / "a.json") == (KEYS[:1], KEYS[1:])
    assert read_label_file(tmp_path / "b.json") == ([KEYS[2]], [KEYS[0]])
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(ValueError):
        read_label_file(tmp_path / "bad.json")


def test_text_embeddings(tmp_path):
    (tmp_path / "t.json").write_text(json.dumps({"car": [0.5, 1, 2], "smoke": [1, 0, 0]}))
    texts = read_text_embeddings(tmp_path / "t.json")
    assert set(texts) == {"car", "smoke"} and texts["car"].dtype == np.float32
    np.testing.assert_array_equal(texts["car"], [0.5, 1, 2])


def test_load_ground_truth_drops_unknown_and_conflicting_keys(tmp_path, vectors):
    with h5py.File(tmp_path / "embeddings.h5", "w") as hf:
        hf.create_dataset("embeddings", data=vectors)
    write_shot_data(tmp_path / "shot-data.csv", KEYS)
    agg = tmp_path / "agg"
    agg.mkdir()
    (agg / "car.json").write_text(json.dumps({"pos": [KEYS[0], KEYS[1], "nope|1"], "neg": [KEYS[1], KEYS[3]]}))
    (agg / "smoke.json").write_text(json.dumps({"pos": [KEYS[2]], "neg": [KEYS[0]]}))
    (tmp_path / "text.json").write_text(json.dumps({"car": [1.0] * 6}))
    truth = load_ground_truth(tmp_path / "embeddings.h5", agg, text_embeddings=tmp_path / "text.json")
    assert truth.keys == KEYS and set(truth.labels) == {"car", "smoke"}
    assert truth.labels["car"].pos_rows.tolist() == [0]  # KEYS[1] is in both lists, "nope|1" is not embedded
    assert truth.labels["car"].neg_rows.tolist() == [3]
    assert truth.labels["smoke"].pos_rows.tolist() == [2]
    assert set(truth.text_embeddings) == {"car"}
    only = load_ground_truth(tmp_path / "embeddings.h5", agg, labels=["smoke"])
    assert set(only.labels) == {"smoke"}
