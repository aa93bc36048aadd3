"""The content-hash cache of analysed data: reused when nothing changed, never otherwise."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from implant_match import cache
from implant_match.cli import app
from implant_match.dataset import DataPaths, load_dataset
from implant_match.ranking import Engine, RankOptions

from .factories import bundled


@pytest.fixture
def data(tmp_path: Path) -> DataPaths:
    """A copy of the bundled data (small: the tests lower the size threshold)."""
    source = bundled()
    shutil.copy(source.needs, tmp_path / "needs.yaml")
    shutil.copy(source.enterprises, tmp_path / "enterprises.yaml")
    return DataPaths(tmp_path / "needs.yaml", tmp_path / "enterprises.yaml")


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(cache, "MIN_BYTES", 0)
    where = tmp_path / "cache"
    monkeypatch.setenv("IMPLANT_MATCH_CACHE_DIR", str(where))
    return where


class Builds:
    """A build function that counts its calls."""

    def __init__(self, paths: DataPaths, warnings: bool = True) -> None:
        self.paths = paths
        self.warnings = warnings
        self.count = 0

    def __call__(self) -> Engine:
        self.count += 1
        return Engine(load_dataset(self.paths.needs, self.paths.enterprises))


def top_ids(engine: Engine) -> list[list[str]]:
    shortlist = engine.rank(RankOptions(top=3))
    return [[r.match.enterprise_id for r in s.candidates] for s in shortlist.needs]


def test_second_run_reads_the_entry(data: DataPaths, folder: Path) -> None:
    builds = Builds(data)
    first = cache.cached_engine(data, None, builds)
    second = cache.cached_engine(data, None, builds)
    assert builds.count == 1
    assert second is not first  # read back from disk, not kept in memory
    assert top_ids(second) == top_ids(first)
    entries = list(folder.glob(f"*{cache.SUFFIX}"))
    assert len(entries) == 1
    assert oct(folder.stat().st_mode & 0o777) == oct(0o700)


def test_any_changed_byte_is_a_new_entry(data: DataPaths, folder: Path) -> None:
    builds = Builds(data)
    cache.cached_engine(data, None, builds)
    text = data.enterprises.read_text(encoding="utf-8")
    data.enterprises.write_text(text.replace("Dons Solidaires", "Dons  Solidaires"), "utf-8")
    engine = cache.cached_engine(data, None, builds)
    assert builds.count == 2
    assert engine.dataset.enterprise_by_id["dons-solidaires"].name == "Dons  Solidaires"
    assert len(list(folder.glob(f"*{cache.SUFFIX}"))) == 2


def test_the_project_lexicon_is_part_of_the_key(
    data: DataPaths, folder: Path, tmp_path: Path
) -> None:
    lexicon = tmp_path / "lexicon.yaml"
    lexicon.write_text("groups: []\n", encoding="utf-8")
    assert cache.entry_key(data, None) != cache.entry_key(data, lexicon)
    first = cache.entry_key(data, lexicon)
    lexicon.write_text("groups: []\n# edited\n", encoding="utf-8")
    assert cache.entry_key(data, lexicon) != first


def test_a_broken_entry_is_dropped_and_rebuilt(data: DataPaths, folder: Path) -> None:
    builds = Builds(data)
    cache.cached_engine(data, None, builds)
    (entry,) = folder.glob(f"*{cache.SUFFIX}")
    entry.write_bytes(entry.read_bytes()[:1000])  # truncated, as by a full disk
    engine = cache.cached_engine(data, None, builds)
    assert builds.count == 2
    assert top_ids(engine)
    assert cache.read(folder, entry.name.removesuffix(cache.SUFFIX)) is not None


def test_turned_off(data: DataPaths, folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMPLANT_MATCH_CACHE", "off")
    builds = Builds(data)
    cache.cached_engine(data, None, builds)
    cache.cached_engine(data, None, builds)
    assert builds.count == 2
    assert not folder.exists()


def test_small_data_is_not_cached(
    data: DataPaths, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache, "MIN_BYTES", 1 << 20)
    assert cache.entry_key(data, None) is None
    monkeypatch.setattr(cache, "MIN_BYTES", 0)
    monkeypatch.setattr(cache, "MAX_BYTES", 1000)  # nor is data too big to be worth it
    assert cache.entry_key(data, None) is None
    builds = Builds(data)
    cache.cached_engine(data, None, builds)
    assert not folder.exists()


def test_an_unwritable_folder_only_costs_time(
    data: DataPaths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache, "MIN_BYTES", 0)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("", encoding="utf-8")
    monkeypatch.setenv("IMPLANT_MATCH_CACHE_DIR", str(blocker / "cache"))
    builds = Builds(data)
    assert top_ids(cache.cached_engine(data, None, builds))
    assert top_ids(cache.cached_engine(data, None, builds))
    assert builds.count == 2


def test_only_the_most_recent_entries_are_kept(
    data: DataPaths, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache, "KEEP", 2)
    builds = Builds(data)
    engine = builds()
    for k in range(4):
        cache.write(folder, f"{k:064x}", engine)
        os.utime(folder / f"{k:064x}{cache.SUFFIX}", (1_000_000 + k, 1_000_000 + k))
    cache.write(folder, "f" * 64, engine)
    kept = sorted(p.name for p in folder.glob(f"*{cache.SUFFIX}"))
    assert kept == [f"{3:064x}{cache.SUFFIX}", f"{'f' * 64}{cache.SUFFIX}"]


def test_cli_output_is_the_same_from_the_cache(data: DataPaths, folder: Path) -> None:
    runner = CliRunner()
    args = ["rank", "--needs", str(data.needs), "--enterprises", str(data.enterprises)]
    first = runner.invoke(app, [*args, "--format", "json"])
    assert first.exit_code == 0, first.output
    assert len(list(folder.glob(f"*{cache.SUFFIX}"))) == 1
    second = runner.invoke(app, [*args, "--format", "json"])
    assert second.exit_code == 0
    assert second.stdout == first.stdout


def test_folder_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("IMPLANT_MATCH_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache.cache_dir() == tmp_path / "implant-match"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache.cache_dir() == tmp_path / "home" / ".cache" / "implant-match"

    def no_home() -> Path:
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.setattr(Path, "home", staticmethod(no_home))
    assert cache.cache_dir() is None  # the run goes on, uncached


# -- what another user could have written is never unpickled -------------------------------

OTHER_UID = 65534  # "nobody"


class Plant:
    """A payload that runs code when unpickled: it creates the folder ``marker``."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, ...]:
        return (os.mkdir, (str(self.marker),))


def plant(folder: Path, key: str, marker: Path, forged: bool) -> None:
    """An entry for ``key`` whose unpickling creates ``marker``: a bare pickle, or one
    authenticated under a secret the planter wrote there too (as anyone who can write
    the folder can)."""
    payload = pickle.dumps(Plant(marker))
    if forged:
        secret = b"k" * 32
        (folder / cache.SECRET_NAME).write_bytes(secret)
        (folder / cache.SECRET_NAME).chmod(0o600)
        payload = cache.seal(secret, key, payload)
    (folder / f"{key}{cache.SUFFIX}").write_bytes(payload)


def cache_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == cache.__name__]


def need_root(reason: str) -> None:
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        pytest.skip(f"{reason} needs root (chown to another user)")


@pytest.mark.parametrize("forged", [False, True], ids=["bare", "forged"])
@pytest.mark.parametrize("mode", [0o777, 0o1777, 0o770], ids=oct)
def test_a_planted_entry_in_a_folder_others_can_write_is_never_read(
    data: DataPaths,
    folder: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    mode: int,
    forged: bool,
) -> None:
    folder.mkdir()
    folder.chmod(mode)
    key = cache.entry_key(data, None)
    assert key is not None
    marker = tmp_path / "pwned"
    plant(folder, key, marker, forged)
    before = sorted(p.name for p in folder.iterdir())
    builds = Builds(data)
    engine = cache.cached_engine(data, None, builds)
    assert not marker.exists()  # the payload never ran
    assert builds.count == 1 and top_ids(engine)
    (message,) = cache_warnings(caplog)
    assert str(folder) in message and "writable" in message
    assert sorted(p.name for p in folder.iterdir()) == before  # nothing written there either


@pytest.mark.parametrize("forged", [False, True], ids=["bare", "forged"])
def test_a_planted_entry_in_a_folder_of_another_user_is_never_read(
    data: DataPaths,
    folder: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    forged: bool,
) -> None:
    need_root("a folder owned by another user")
    folder.mkdir(mode=0o700)
    key = cache.entry_key(data, None)
    assert key is not None
    marker = tmp_path / "pwned"
    plant(folder, key, marker, forged)
    for path in [folder, *folder.iterdir()]:
        os.chown(path, OTHER_UID, OTHER_UID)
    builds = Builds(data)
    cache.cached_engine(data, None, builds)
    assert not marker.exists()
    assert builds.count == 1
    (message,) = cache_warnings(caplog)
    assert str(folder) in message and "owned by" in message


@pytest.mark.parametrize("forged", [False, True], ids=["bare", "forged"])
def test_a_planted_entry_owned_by_another_user_is_never_read(
    data: DataPaths,
    folder: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    forged: bool,
) -> None:
    need_root("an entry owned by another user")
    cache.cached_engine(data, None, Builds(data))  # our folder and secret, as after a run
    key = cache.entry_key(data, None)
    assert key is not None
    marker = tmp_path / "pwned"
    entry = folder / f"{key}{cache.SUFFIX}"
    secret = (folder / cache.SECRET_NAME).read_bytes()
    entry.write_bytes(
        cache.seal(secret, key, pickle.dumps(Plant(marker)))
        if forged
        else pickle.dumps(Plant(marker))
    )
    os.chown(entry, OTHER_UID, OTHER_UID)
    builds = Builds(data)
    cache.cached_engine(data, None, builds)
    assert not marker.exists()
    assert builds.count == 1
    (message,) = cache_warnings(caplog)
    assert entry.name in message and "owned by" in message


def test_an_entry_others_can_write_is_never_read(
    data: DataPaths, folder: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cache.cached_engine(data, None, Builds(data))
    (entry,) = folder.glob(f"*{cache.SUFFIX}")
    entry.chmod(0o666)
    builds = Builds(data)
    cache.cached_engine(data, None, builds)
    assert builds.count == 1
    (message,) = cache_warnings(caplog)
    assert entry.name in message and "writable" in message
    assert oct(entry.stat().st_mode & 0o777) == oct(0o600)  # rebuilt, private again


def test_a_folder_that_is_a_symbolic_link_is_refused(
    data: DataPaths,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(cache, "MIN_BYTES", 0)
    target = tmp_path / "elsewhere"
    target.mkdir(mode=0o700)
    link = tmp_path / "cache"
    link.symlink_to(target)
    monkeypatch.setenv("IMPLANT_MATCH_CACHE_DIR", str(link))
    builds = Builds(data)
    cache.cached_engine(data, None, builds)
    cache.cached_engine(data, None, builds)
    assert builds.count == 2 and not list(target.iterdir())
    messages = cache_warnings(caplog)
    assert len(messages) == 2 and all("symbolic link" in m for m in messages)


def test_an_entry_that_is_a_symbolic_link_is_not_followed(
    data: DataPaths, folder: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cache.cached_engine(data, None, Builds(data))
    (entry,) = folder.glob(f"*{cache.SUFFIX}")
    elsewhere = tmp_path / "elsewhere.engine"
    entry.rename(elsewhere)  # a valid entry, but reached through a link
    entry.symlink_to(elsewhere)
    builds = Builds(data)
    cache.cached_engine(data, None, builds)
    assert builds.count == 1
    assert "symbolic link" in " ".join(cache_warnings(caplog))
    assert not entry.is_symlink() and entry.is_file()  # replaced by a rebuilt entry


@pytest.mark.parametrize("fault", ["mode", "owner", "link", "size"])
def test_a_secret_others_could_know_is_refused(
    data: DataPaths,
    folder: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    fault: str,
) -> None:
    cache.cached_engine(data, None, Builds(data))
    secret = folder / cache.SECRET_NAME
    if fault == "mode":
        secret.chmod(0o644)
    elif fault == "owner":
        need_root("a secret owned by another user")
        os.chown(secret, OTHER_UID, OTHER_UID)
    elif fault == "link":
        known = tmp_path / "known"
        known.write_bytes(secret.read_bytes())
        known.chmod(0o600)
        secret.unlink()
        secret.symlink_to(known)
    else:
        secret.write_bytes(b"short")
    builds = Builds(data)
    cache.cached_engine(data, None, builds)
    assert builds.count == 1
    (message,) = cache_warnings(caplog)
    assert cache.SECRET_NAME in message


def test_two_first_runs_agree_on_one_secret(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Both found no secret; the second to publish one takes the first's, which it never
    overwrites (entries sealed by either verify)."""
    folder.mkdir(mode=0o700)
    with cache.Folder.open(folder) as first, cache.Folder.open(folder) as second:
        assert first is not None and second is not None
        real_link = os.link

        def first_publishes_meanwhile(*args: object, **kwargs: object) -> None:
            monkeypatch.setattr(os, "link", real_link)
            published = first.secret(create=True)
            assert published is not None
            real_link(*args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(os, "link", first_publishes_meanwhile)
        taken = second.secret(create=True)
        assert taken is not None and taken == first.secret(create=False)
    assert (folder / cache.SECRET_NAME).read_bytes() == taken
    assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]


def test_an_entry_edited_in_place_is_rebuilt(data: DataPaths, folder: Path) -> None:
    builds = Builds(data)
    cache.cached_engine(data, None, builds)
    (entry,) = folder.glob(f"*{cache.SUFFIX}")
    content = entry.read_bytes()
    assert b"Dons Solidaires" in content
    with entry.open("r+b") as handle:  # same size, same inode: only the content changed
        handle.write(content.replace(b"Dons Solidaires", b"Dons Solidairez"))
    engine = cache.cached_engine(data, None, builds)
    assert builds.count == 2
    assert engine.dataset.enterprise_by_id["dons-solidaires"].name == "Dons Solidaires"
    assert b"Dons Solidairez" not in entry.read_bytes()


def test_an_entry_sealed_under_another_secret_is_rebuilt(data: DataPaths, folder: Path) -> None:
    builds = Builds(data)
    cache.cached_engine(data, None, builds)
    (folder / cache.SECRET_NAME).unlink()  # a new secret: no older entry can be verified
    cache.cached_engine(data, None, builds)
    assert builds.count == 2
    cache.cached_engine(data, None, builds)
    assert builds.count == 2


def test_created_folder_entries_and_secret_are_private(
    data: DataPaths, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    os.umask(previous := os.umask(0))  # the widest umask: modes come from the code alone
    try:
        cache.cached_engine(data, None, Builds(data))
    finally:
        os.umask(previous)
    (entry,) = folder.glob(f"*{cache.SUFFIX}")
    modes = {
        path.name: oct(path.stat().st_mode & 0o7777)
        for path in (folder, entry, folder / cache.SECRET_NAME)
    }
    assert modes == {
        folder.name: oct(0o700),
        entry.name: oct(0o600),
        cache.SECRET_NAME: oct(0o600),
    }


def test_a_refused_folder_is_said_once_on_stderr_by_the_cli(data: DataPaths, folder: Path) -> None:
    folder.mkdir()
    folder.chmod(0o777)
    runner = CliRunner()
    args = ["rank", "--needs", str(data.needs), "--enterprises", str(data.enterprises)]
    result = runner.invoke(app, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)
    (line,) = result.stderr.splitlines()
    assert line.startswith("warning: ") and str(folder) in line


# -- an entry only ever holds the data of its key --------------------------------------------


@pytest.mark.parametrize("parsed", ["older", "newer"])
def test_an_entry_holds_the_bytes_that_were_parsed(
    data: DataPaths, folder: Path, monkeypatch: pytest.MonkeyPatch, parsed: str
) -> None:
    """The file changes between the moment its key is hashed and the moment it is parsed
    (a prefetch child may parse it before the lookup hashes it, or after)."""
    from implant_match import loading

    old = data.enterprises.read_bytes()
    new = old.replace(b"Dons Solidaires", b"Dons Nouveaux")
    real_read = loading.read_bytes

    def parsed_before_the_change(path: Path, display: str | None = None) -> bytes:
        return old if path == data.enterprises else real_read(path, display)

    if parsed == "older":  # hashed new, parsed old
        data.enterprises.write_bytes(new)
        monkeypatch.setattr(loading, "read_bytes", parsed_before_the_change)
        builds = Builds(data)
    else:  # hashed old, parsed new

        class ChangedMeanwhile(Builds):
            def __call__(self) -> Engine:
                data.enterprises.write_bytes(new)
                return super().__call__()

        builds = ChangedMeanwhile(data)
    cache.cached_engine(data, None, builds)
    monkeypatch.undo()
    monkeypatch.setattr(cache, "MIN_BYTES", 0)
    monkeypatch.setenv("IMPLANT_MATCH_CACHE_DIR", str(folder))
    for content, name in ((new, "Dons Nouveaux"), (old, "Dons Solidaires")):
        data.enterprises.write_bytes(content)
        engine = cache.cached_engine(data, None, Builds(data))
        assert engine.dataset.enterprise_by_id["dons-solidaires"].name == name


def test_a_prefetch_child_brings_back_the_digest_of_what_it_parsed(
    data: DataPaths, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The child parses the file before it is replaced; the run then hashes the new one."""
    from implant_match import loading, prefetch

    old = data.enterprises.read_bytes()
    new = old.replace(b"Dons Solidaires", b"Dons Nouveaux")
    monkeypatch.setattr(prefetch, "MIN_BYTES", 0)
    real_read = loading.read_bytes

    def as_before(path: Path, display: str | None = None) -> bytes:
        return old if path == data.enterprises else real_read(path, display)

    monkeypatch.setattr(loading, "read_bytes", as_before)  # what the forked child sees
    started = prefetch.Prefetch.start(data, children=2)
    if not started.active:
        pytest.skip("no forked child here (not Linux, or threads running)")
    monkeypatch.setattr(loading, "read_bytes", real_read)
    data.enterprises.write_bytes(new)

    def build() -> Engine:
        return Engine(load_dataset(data.needs, data.enterprises, read=started.load))

    engine = cache.cached_engine(data, None, build)
    assert not started.active  # the children's documents were used
    assert engine.dataset.enterprise_by_id["dons-solidaires"].name == "Dons Solidaires"
    builds = Builds(data)
    again = cache.cached_engine(data, None, builds)
    assert builds.count == 1  # the entry written holds the old bytes under their own key
    assert again.dataset.enterprise_by_id["dons-solidaires"].name == "Dons Nouveaux"
    assert engine.dataset.digests[1] == hashlib.sha256(old).hexdigest()


def test_the_lexicon_entry_holds_the_lexicon_that_was_parsed(
    data: DataPaths, folder: Path, tmp_path: Path
) -> None:
    from implant_match.lexicon import load_lexicon

    lexicon = tmp_path / "lexicon.yaml"
    before = "schema_version: 1\ngroups: []\n"
    after = (
        "schema_version: 1\ngroups:\n- id: zzz\n  canonical: zzz\n  domain: test\n  terms: [zzzz]\n"
    )
    lexicon.write_text(before, encoding="utf-8")

    def build() -> Engine:
        lexicon.write_text(after, encoding="utf-8")  # replaced after its key was hashed
        return Engine(load_dataset(data.needs, data.enterprises), load_lexicon(lexicon))

    cache.cached_engine(data, lexicon, build)
    lexicon.write_text(before, encoding="utf-8")
    engine = cache.cached_engine(
        data, lexicon, lambda: Engine(load_dataset(data.needs, data.enterprises))
    )
    assert "zzz" not in {g.id for g in engine.lexicon.groups}


# -- no temporary file is left behind ---------------------------------------------------------


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_a_full_disk_leaves_no_temporary(data: DataPaths, folder: Path) -> None:
    """The disk fills up as the last bytes are flushed, when the file is closed."""
    resource = pytest.importorskip("resource")
    import signal

    engine = Builds(data)()
    folder.mkdir(mode=0o700)
    room = len(pickle.dumps(engine, protocol=pickle.HIGHEST_PROTOCOL)) - 1
    limits = resource.getrlimit(resource.RLIMIT_FSIZE)
    handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of a signal
    resource.setrlimit(resource.RLIMIT_FSIZE, (room, limits[1]))
    try:
        cache.write(folder, "f" * 64, engine)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, limits)
        signal.signal(signal.SIGXFSZ, handler)
    assert leftovers(folder) == []
    assert not list(folder.glob(f"*{cache.SUFFIX}"))


def test_a_folder_at_the_entry_path_leaves_no_temporary(data: DataPaths, folder: Path) -> None:
    key = cache.entry_key(data, None)
    (folder / f"{key}{cache.SUFFIX}").mkdir(parents=True)
    builds = Builds(data)
    for _ in range(2):
        assert top_ids(cache.cached_engine(data, None, builds))
    assert builds.count == 2
    assert leftovers(folder) == []


@pytest.mark.parametrize("interrupt", [KeyboardInterrupt, SystemExit])
def test_an_interrupted_write_leaves_no_temporary(
    data: DataPaths, folder: Path, monkeypatch: pytest.MonkeyPatch, interrupt: type
) -> None:
    engine = Builds(data)()
    folder.mkdir(mode=0o700)

    def interrupted(*args: object, **kwargs: object) -> None:
        raise interrupt()  # as a signal handler would, once the entry is all written

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(interrupt):
        cache.write(folder, "f" * 64, engine)
    monkeypatch.undo()
    assert leftovers(folder) == []


def test_stale_temporaries_are_removed_on_the_next_run(data: DataPaths, folder: Path) -> None:
    folder.mkdir(mode=0o700)
    old = 1_000_000.0
    names = {
        "stale": f"{cache.TEMP_PREFIX}0123456789abcdef.tmp",
        "stale_previous_version": "tmpab_cd123.tmp",
        "fresh": f"{cache.TEMP_PREFIX}fedcba9876543210.tmp",  # another run may be writing it
        "not_ours": "notes.tmp",
    }
    for label, name in names.items():
        (folder / name).write_bytes(b"x" * 100)
        if label != "fresh":
            os.utime(folder / name, (old, old))
    cache.cached_engine(data, None, Builds(data))
    assert leftovers(folder) == sorted([names["fresh"], names["not_ours"]])


def test_a_stale_temporary_of_another_user_is_left_alone(data: DataPaths, folder: Path) -> None:
    need_root("a temporary file owned by another user")
    folder.mkdir(mode=0o700)
    theirs = folder / f"{cache.TEMP_PREFIX}0123456789abcdef.tmp"
    theirs.write_bytes(b"x")
    os.utime(theirs, (1_000_000, 1_000_000))
    os.chown(theirs, OTHER_UID, OTHER_UID)
    cache.cached_engine(data, None, Builds(data))
    assert theirs.exists()


def test_security_md_shows_the_warning_as_printed(data: DataPaths, folder: Path) -> None:
    """The example line of SECURITY.md, with its folder swapped for the test's."""
    text = (Path(__file__).parents[1] / "SECURITY.md").read_text(encoding="utf-8")
    (example,) = [line.strip() for line in text.splitlines() if "warning: cache" in line]
    shown = re.search(r"cache folder (\S+) is", example)
    assert shown is not None
    folder.mkdir()
    folder.chmod(0o1777)
    args = ["rank", "--needs", str(data.needs), "--enterprises", str(data.enterprises)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert result.stderr.strip() == example.replace(shown.group(1), str(folder))
