import numpy as np
import pytest

from models_app.learning.matrix import CURRENT_FILE, CorpusMatrix, MatrixWriter, is_stale, stored_version


def random_matrix(n=500, d=16, seed=0, version="v1"):
    rng = np.random.default_rng(seed)
    ids = rng.choice(100_000, size=n, replace=False)  # unsorted on purpose
    vecs = rng.standard_normal((n, d)).astype(np.float32)
    return ids, vecs, CorpusMatrix.from_arrays(ids, vecs, version=version)


def test_from_arrays_sorts_rows_with_their_vectors():
    ids, vecs, m = random_matrix()
    assert np.all(np.diff(m.shot_ids) > 0)
    assert m.vectors.flags.c_contiguous and m.vectors.dtype == np.float32
    for i in (0, 17, 499):
        np.testing.assert_array_equal(m.vectors[m.rows_for([ids[i]])[0]], vecs[i])


def test_rows_for_uses_binary_search_and_reports_missing_ids():
    ids, _, m = random_matrix()
    wanted = ids[[5, 3, 400]]
    np.testing.assert_array_equal(m.shot_ids[m.rows_for(wanted)], wanted)
    absent = np.setdiff1d(np.arange(100_001), ids)[[0, -1]]
    with pytest.raises(KeyError, match="not in the corpus matrix"):
        m.rows_for(np.concatenate([wanted, absent]))
    rows, found = m.lookup(np.concatenate([wanted, absent, [10**12]]))
    assert found.tolist() == [True, True, True, False, False, False]
    np.testing.assert_array_equal(m.shot_ids[rows[:3]], wanted)


def test_invalid_matrices_are_rejected():
    with pytest.raises(ValueError, match="duplicate"):
        CorpusMatrix.from_arrays([1, 1], np.zeros((2, 3)))
    with pytest.raises(ValueError, match="strictly increasing"):
        CorpusMatrix(np.array([2, 1], np.int64), np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match="C-contiguous"):
        CorpusMatrix(np.array([1, 2], np.int64), np.zeros((3, 2), np.float32).T)


def test_save_load_roundtrip_through_memmap(tmp_path):
    _, _, m = random_matrix()
    m = m.with_clusters(np.arange(m.n) % 7)
    m.save(tmp_path)
    loaded = CorpusMatrix.load(tmp_path)
    assert isinstance(loaded.vectors, np.memmap)
    assert not loaded.vectors.flags.writeable
    np.testing.assert_array_equal(loaded.shot_ids, m.shot_ids)
    np.testing.assert_array_equal(loaded.vectors, m.vectors)
    np.testing.assert_array_equal(loaded.clusters, m.clusters)
    assert loaded.version == "v1"
    in_memory = CorpusMatrix.load(tmp_path, mmap=False)
    assert not isinstance(in_memory.vectors, np.memmap)
    np.testing.assert_array_equal(in_memory.vectors, m.vectors)


def test_staleness_and_atomic_replacement(tmp_path):
    assert stored_version(tmp_path) is None
    assert is_stale(tmp_path, "v1")
    with pytest.raises(FileNotFoundError):
        CorpusMatrix.load(tmp_path)
    _, _, m1 = random_matrix(version="v1")
    m1.save(tmp_path)
    assert not is_stale(tmp_path, "v1") and is_stale(tmp_path, "v2")
    old = CorpusMatrix.load(tmp_path)  # a worker holding the old snapshot mapped
    _, _, m2 = random_matrix(n=300, seed=1, version="v2")
    m2.save(tmp_path)
    assert stored_version(tmp_path) == "v2"
    new = CorpusMatrix.load(tmp_path)
    assert new.n == 300 and new.version == "v2"
    np.testing.assert_array_equal(old.vectors, m1.vectors)  # still readable after the old files were pruned
    snapshots = [p for p in tmp_path.iterdir() if p.name.startswith("snap-")]
    assert len(snapshots) == 1
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("snap-")) == [CURRENT_FILE]


def test_writer_streams_rows_in_order(tmp_path):
    rng = np.random.default_rng(2)
    vecs = rng.standard_normal((10, 4)).astype(np.float32)
    with MatrixWriter(tmp_path, n=10, dim=4, version="s") as writer:
        writer.append(np.arange(0, 6) * 2, vecs[:6])
        writer.append(np.arange(6, 10) * 2, vecs[6:])
        writer.commit()
    m = CorpusMatrix.load(tmp_path)
    np.testing.assert_array_equal(m.shot_ids, np.arange(10) * 2)
    np.testing.assert_array_equal(m.vectors, vecs)


def test_writer_rejects_bad_streams_and_publishes_nothing(tmp_path):
    vecs = np.zeros((4, 2), np.float32)
    with pytest.raises(ValueError, match="increasing"), MatrixWriter(tmp_path, n=4, dim=2, version="x") as writer:
        writer.append([1, 5], vecs[:2])
        writer.append([5, 6], vecs[2:])
    writer = MatrixWriter(tmp_path, n=4, dim=2, version="x")
    writer.append([1, 2], vecs[:2])
    with pytest.raises(ValueError, match="announced"):
        writer.commit()
    writer.abort()
    assert stored_version(tmp_path) is None
    assert list(tmp_path.iterdir()) == []
