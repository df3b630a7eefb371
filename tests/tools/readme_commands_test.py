#!/usr/bin/env python3
"""Every command in README.md and docs/*.md is run by this test or mapped to what runs it.

  readme_commands_test.py --source-dir SRC --build-dir BUILD --ctest CTEST
                          [--readme README.md docs/...] [--table readme_commands.txt]
                          [--no-run] [--self-test]

Commands are
  * every command in a fenced shell block (```sh, bash, shell, zsh; in a
    ```console block the lines starting with "$ "), continuation lines and
    multi-line quotes joined, comments dropped;
  * every inline code span whose first word (after VAR=value words) is a
    program: a repository file with the executable bit, a path under build/,
    an absolute path to an executable, or a known command (ctest, cmake,
    python3, apt-get, ...) given arguments.
An indented code block that looks like shell commands is an error: commands
go in a fenced ```sh block, so that this test sees them.

Each command must have an entry in the table (tests/tools/readme_commands.txt,
format at its top) that either runs it here, in a scratch folder mirroring the
source tree (exit status 0, and expected output where given), or names the
CTest test / label or the .ci/run line that runs it, or says why it is manual.
The test fails on a command without an entry, an entry whose command is no
longer in the README, a named CTest test, label or CI line that does not
exist, and a run that fails. Stdlib only, so any python3 runs it; one file
(longer than the project's ~600-line guide on purpose) so that CTest, CI and a
reader run it with nothing to install or import.

--no-run checks everything but runs nothing (CTest passes it in a native
build without the benchmarks or the Python module; cross and sanitizer builds
do not register the test: their binaries are not the README's build/). Runs
see build/ as BUILD and /tmp as a scratch folder. --self-test
checks that the checker itself fails where it must (an unmapped command in a
README copy, a mapping to a missing test, ...).
"""
import argparse
import copy
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

SHELL_LANGS = {"sh", "bash", "shell", "zsh", "console", "shell-session"}
# Programs that make an inline span a command when they have arguments.
KNOWN_PROGRAMS = {
    "apt", "apt-get", "bash", "cd", "clang", "clang++", "cmake", "ctest",
    "docker", "export", "g++", "gcc", "git", "make", "mkdir", "ninja", "node",
    "npm", "pip", "pip3", "python", "python3", "sh", "sudo",
}
# Directives of a table entry.
RUN_KINDS = {"run", "run-as"}
CHECK_KINDS = RUN_KINDS | {"ctest", "ctest-label", "ci", "manual",
                           "not-command"}
ALL_KINDS = CHECK_KINDS | {"expect", "shown", "only-if", "why"}
ENV_WORD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
LONG_OPTION = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")


def normalize(text):
    """The table key of a command: continuations joined, whitespace collapsed."""
    return " ".join(text.replace("\\\n", " ").split())


# ---------------------------------------------------------------- README

def shell_scan(text):
    """(text without comments, inside an open quote, ends with a line
    continuation) for shell text."""
    out = []
    quote = None
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if quote == "'":
            if c == "'":
                quote = None
        elif quote == '"':
            if c == "\\" and i + 1 < n:
                out.append(c)
                i += 1
                c = text[i]
            elif c == '"':
                quote = None
        else:
            if c == "\\" and i + 1 < n:
                out.append(c)
                i += 1
                c = text[i]
            elif c in "'\"":
                quote = c
            elif c == "#" and (i == 0 or text[i - 1] in " \t\n"):
                while i < n and text[i] != "\n":
                    i += 1
                continue
        out.append(c)
        i += 1
    stripped = "".join(out)
    body = stripped.rstrip("\n").rstrip(" \t")
    continued = quote is None and body.endswith("\\") and \
        not body.endswith("\\\\")
    return stripped, quote is not None, continued


def block_commands(lines, console):
    """Logical commands of a shell block: list of (first line index, text)."""
    commands = []
    buf = []
    start = 0
    for index, line in enumerate(lines):
        if not buf:
            if console:
                if not line.startswith("$ "):
                    continue
                line = line[2:]
            elif line.startswith("$ "):
                line = line[2:]
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            start = index
        buf.append(line)
        stripped, open_quote, continued = shell_scan("\n".join(buf) + "\n")
        if not open_quote and not continued:
            if stripped.strip():
                commands.append((start, stripped.strip()))
            buf = []
    if buf:
        commands.append((start, shell_scan("\n".join(buf))[0].strip()))
    return commands


def words_of(text):
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()


class Readme:
    def __init__(self, path, source_dir):
        self.path = path
        self.source_dir = source_dir
        with open(path, encoding="utf-8") as f:
            self.text = f.read()
        self.flat = " ".join(self.text.split())
        # key -> (line number, original text, origin)
        self.commands = {}
        self.errors = []
        self._parse()

    def _add(self, lineno, text, origin):
        key = normalize(text)
        if key and key not in self.commands:
            self.commands[key] = (lineno, text, origin)

    def is_program(self, word, has_args):
        if word in KNOWN_PROGRAMS:
            return has_args
        if word.startswith("build/"):
            return not word.endswith("/")
        if word.startswith("/"):
            return has_args and os.path.isfile(word) and os.access(word, os.X_OK)
        if "/" in word and not word.startswith("-"):
            path = os.path.join(self.source_dir, word)
            return os.path.isfile(path) and os.access(path, os.X_OK)
        return False

    def is_command(self, text):
        words = words_of(text)
        i = 0
        while i < len(words) and ENV_WORD.match(words[i]):
            i += 1
        if i == len(words):
            return False
        return self.is_program(words[i], len(words) > i + 1)

    def _parse(self):
        lines = self.text.split("\n")
        prose = []  # (line number, text) outside code blocks
        i = 0
        previous_blank = True
        while i < len(lines):
            line = lines[i]
            fence = re.match(r"^ {0,3}(```+|~~~+)\s*([^\s`]*)", line)
            if fence:
                marker, lang = fence.group(1), fence.group(2).lower()
                j = i + 1
                while j < len(lines) and not lines[j].lstrip().startswith(marker):
                    j += 1
                body = lines[i + 1:j]
                if lang in SHELL_LANGS:
                    for start, text in block_commands(body, lang == "console"):
                        self._add(i + 2 + start, text, "```" + lang + " block")
                elif not lang:
                    self._check_unmarked(i + 1, body, "fenced block without a language")
                i = j + 1
                previous_blank = True
                continue
            if previous_blank and re.match(r"^( {4}|\t)\S", line):
                j = i
                while j < len(lines) and (not lines[j].strip() or
                                          re.match(r"^( {4}|\t)", lines[j])):
                    j += 1
                self._check_unmarked(i + 1, [l[4:] for l in lines[i:j]],
                                     "indented code block")
                i = j
                previous_blank = True
                continue
            prose.append((i + 1, line))
            previous_blank = not line.strip()
            i += 1
        # Inline code spans (they may wrap across lines within a paragraph).
        text = "\n".join(l for _, l in prose)
        line_of = []
        for number, l in prose:
            line_of.extend([number] * (len(l) + 1))
        for m in re.finditer(r"(?<!`)`([^`]+)`(?!`)", text):
            span = m.group(1)
            if self.is_command(span):
                self._add(line_of[m.start()], span, "inline code")

    def _check_unmarked(self, lineno, body, what):
        for offset, line in enumerate(body):
            words = line.split()
            if words and (words[0] == "$" or self.is_command(line.strip())):
                self.errors.append(
                    f"{self.path}:{lineno + offset}: shell command in an "
                    f"{what}; put it in a fenced ```sh block so that "
                    f"{os.path.basename(__file__)} checks it: {line.strip()}")
                return


# ---------------------------------------------------------------- table

class Entry:
    def __init__(self, key, lineno):
        self.key = key
        self.lineno = lineno
        self.items = []  # (kind, value)

    def kinds(self):
        return {k for k, _ in self.items}

    def values(self, kind):
        return [v for k, v in self.items if k == kind]


def parse_table(path):
    entries = []
    errors = []
    entry = None
    command_lines = None
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")

    def finish_command():
        nonlocal command_lines
        if command_lines is not None:
            entry.key = normalize("\n".join(command_lines))
            command_lines = None

    for number, line in enumerate(lines, 1):
        if line.startswith("#"):
            continue
        if not line.strip():
            finish_command()
            entry = None
            continue
        if line.startswith("$ "):
            finish_command()
            entry = Entry(None, number)
            entries.append(entry)
            command_lines = [line[2:]]
            continue
        if line[:1] in " \t":
            if command_lines is not None:
                command_lines.append(line)
            elif entry is not None and entry.items:
                kind, value = entry.items[-1]
                entry.items[-1] = (kind, (value + " " + line.strip()).strip())
            else:
                errors.append(f"{path}:{number}: continuation of nothing: {line}")
            continue
        finish_command()
        m = re.match(r"^([a-z-]+):?(?:\s+(.*))?$", line)
        if entry is None or not m or m.group(1) not in ALL_KINDS:
            errors.append(f"{path}:{number}: expected '$ COMMAND' or one of "
                          f"{', '.join(sorted(ALL_KINDS))}: {line}")
            continue
        kind, value = m.group(1), (m.group(2) or "").strip()
        if kind != "run" and not value:
            errors.append(f"{path}:{number}: {kind} needs a value")
        if kind in ("expect", "shown", "only-if") and not (
                entry.items and
                entry.items[-1][0] in RUN_KINDS | {"expect", "shown", "only-if"}):
            errors.append(f"{path}:{number}: {kind} must follow run or run-as")
        entry.items.append((kind, value))
    finish_command()
    seen = {}
    for e in entries:
        if not e.kinds() & CHECK_KINDS:
            errors.append(f"{path}:{e.lineno}: no run, run-as, ctest, "
                          f"ctest-label, ci, manual or not-command: $ {e.key}")
        if not e.kinds() & (RUN_KINDS | {"manual", "not-command"}) and \
                "why" not in e.kinds():
            errors.append(f"{path}:{e.lineno}: say why it is not run here "
                          f"(why: ...): $ {e.key}")
        if e.key in seen:
            errors.append(f"{path}:{e.lineno}: duplicate of line "
                          f"{seen[e.key]}: $ {e.key}")
        seen[e.key] = e.lineno
    return entries, errors


# ---------------------------------------------------------------- checks

class Context:
    def __init__(self, args):
        self.source_dir = os.path.abspath(args.source_dir)
        self.build_dir = os.path.abspath(args.build_dir)
        self.ctest = args.ctest
        self._tests = None
        self._labels = {}
        self._ci = None

    def ctest_tests(self):
        if self._tests is None:
            out = subprocess.run(
                [self.ctest, "-N", "--test-dir", self.build_dir],
                capture_output=True, text=True, check=True).stdout
            self._tests = set(re.findall(r"^\s*Test\s+#\d+: (\S+)", out, re.M))
        return self._tests

    def label_count(self, label):
        if label not in self._labels:
            out = subprocess.run(
                [self.ctest, "-N", "--test-dir", self.build_dir,
                 "-L", f"^{re.escape(label)}$"],
                capture_output=True, text=True, check=True).stdout
            m = re.search(r"Total Tests: (\d+)", out)
            self._labels[label] = int(m.group(1)) if m else 0
        return self._labels[label]

    def ci_lines(self):
        if self._ci is None:
            path = os.path.join(self.source_dir, ".ci", "run")
            self._ci = set()
            with open(path, encoding="utf-8") as f:
                for line in f:
                    line = normalize(shell_scan(line)[0])
                    if line:
                        self._ci.add(line)
            if "tools/fresh_root.sh" in self._ci:
                self._ci |= self.fresh_root_stages()
        return self._ci

    def fresh_root_stages(self):
        """What tools/fresh_root.sh runs inside its empty Debian root: the
        README's two commands (the first fenced block after "## Two
        commands", as the script reads them) and its other stages, the
        literal entries [stage]="command" of its stage table."""
        stages = set()
        with open(os.path.join(self.source_dir, "README.md"),
                  encoding="utf-8") as f:
            readme = f.read()
        m = re.search(r"^## Two commands.*?^```[^\n]*\n(.*?)^```", readme,
                      re.S | re.M)
        if m:
            for line in m.group(1).splitlines():
                line = normalize(re.sub(r"\s+#.*$", "", line))
                if line:
                    stages.add(line)
        with open(os.path.join(self.source_dir, "tools", "fresh_root.sh"),
                  encoding="utf-8") as f:
            for m in re.finditer(r'^\s*\[[a-z0-9-]+\]="([^"$]+)"\s*$',
                                 f.read(), re.M):
                stages.add(normalize(m.group(1)))
        return stages


class Documents:
    """The README and the docs it links to, read as one: their commands (each
    remembered with the file it came from), their text and their errors."""

    def __init__(self, paths, source_dir):
        self.paths = list(paths)
        self.docs = [Readme(p, source_dir) for p in self.paths]
        self.commands = {}
        self.where = {}
        for doc in self.docs:
            for key, value in doc.commands.items():
                if key not in self.commands:
                    self.commands[key] = value
                    self.where[key] = doc.path
        self.flat = " ".join(doc.flat for doc in self.docs)
        self.errors = [e for doc in self.docs for e in doc.errors]

    def name(self):
        return " + ".join(os.path.basename(p) for p in self.paths)


def mirror_source(source_dir, dest, build_dir):
    """dest/ mirrors the source tree with one symlink per file, so that new
    files land in dest, not in the source (a command must not write to an
    existing file); build folders, .git and caches left out, node_modules
    linked whole."""
    skip_top = re.compile(r"^(build.*|\.git|\.cache)$")
    for root, dirs, files in os.walk(source_dir):
        rel = os.path.relpath(root, source_dir)
        target = os.path.join(dest, rel)
        os.makedirs(target, exist_ok=True)
        if rel == ".":
            dirs[:] = [d for d in dirs if not skip_top.match(d)]
            files = [f for f in files if not skip_top.match(f)]
        dirs[:] = [d for d in dirs if os.path.realpath(os.path.join(root, d))
                   != os.path.realpath(build_dir)]
        for d in [d for d in dirs if d == "node_modules"]:
            os.symlink(os.path.join(root, d), os.path.join(target, d))
        dirs[:] = [d for d in dirs if d not in ("__pycache__", "node_modules")]
        for name in files:
            os.symlink(os.path.join(root, name), os.path.join(target, name))


def option_coverage_errors(entry, readme_text):
    """A usage line run in a concrete form: each --option the README shows
    must be passed by one of the run-as commands."""
    shown = set(LONG_OPTION.findall(readme_text))
    passed = set()
    for value in entry.values("run-as"):
        passed.update(LONG_OPTION.findall(value))
    missing = sorted(shown - passed)
    if missing:
        return [f"the README shows {', '.join(missing)}, which no run-as "
                f"passes: $ {entry.key}"]
    return []


def check(readme_paths, table_path, ctx, run, scratch, log=print):
    """All errors (strings); runs the runnable entries when run is true.
    readme_paths: the README, or a list of it and the docs checked with it."""
    if isinstance(readme_paths, str):
        readme_paths = [readme_paths]
    readme = Documents(readme_paths, ctx.source_dir)
    readme_path = readme.name()
    entries, errors = parse_table(table_path)
    errors = readme.errors + errors
    by_key = {e.key: e for e in entries}
    for key, (lineno, _, origin) in readme.commands.items():
        if key not in by_key:
            errors.append(
                f"{readme.where[key]}:{lineno}: command ({origin}) neither run nor "
                f"mapped by {table_path}; add an entry (run, run-as, ctest, "
                f"ci or manual): $ {key}")
    for e in entries:
        if e.key not in readme.commands:
            errors.append(f"{table_path}:{e.lineno}: not a command in "
                          f"{readme_path} (any more): $ {e.key}")
            continue
        for kind, value in e.items:
            if kind == "ctest":
                for name in value.split():
                    if name not in ctx.ctest_tests():
                        errors.append(f"{table_path}:{e.lineno}: no CTest test "
                                      f"'{name}' in {ctx.build_dir}: $ {e.key}")
            elif kind == "ctest-label":
                if ctx.label_count(value) == 0:
                    errors.append(f"{table_path}:{e.lineno}: no CTest test "
                                  f"with label '{value}': $ {e.key}")
            elif kind == "ci":
                if normalize(value) not in ctx.ci_lines():
                    errors.append(f"{table_path}:{e.lineno}: .ci/run has no "
                                  f"line '{value}': $ {e.key}")
            elif kind == "shown":
                if " ".join(value.split()) not in readme.flat:
                    errors.append(f"{table_path}:{e.lineno}: shown output is "
                                  f"not in {readme_path}: {value}")
        if "run-as" in e.kinds():
            errors += [f"{table_path}:{e.lineno}: {m}"
                       for m in option_coverage_errors(e, readme.commands[e.key][1])]
    if errors or not run:
        return errors

    work = os.path.join(scratch, "work")
    mirror_source(ctx.source_dir, work, ctx.build_dir)
    os.symlink(ctx.build_dir, os.path.join(work, "build"))
    tmp = os.path.join(scratch, "tmp")
    os.makedirs(tmp)
    env = dict(os.environ, TMPDIR=tmp)
    for e in entries:
        runs = []  # [command, expected texts, only-if conditions]
        for kind, value in e.items:
            if kind == "run":
                runs.append([readme.commands[e.key][1], [], []])
            elif kind == "run-as":
                runs.append([value, [], []])
            elif kind in ("expect", "shown"):
                runs[-1][1].append(value)
            elif kind == "only-if":
                runs[-1][2].append(value)
        for command, expects, conditions in runs:
            command = re.sub(r"(?<![\w./-])/tmp(?=[/\s'\"]|$)", tmp, command)
            unmet = [c for c in conditions if subprocess.run(
                ["bash", "-c", c], cwd=work, env=env,
                capture_output=True).returncode != 0]
            if unmet:
                log(f"SKIP  $ {normalize(command)}\n      (only-if false: "
                    f"{'; '.join(unmet)})")
                continue
            start = time.monotonic()
            try:
                result = subprocess.run(["bash", "-c", command], cwd=work,
                                        env=env, capture_output=True,
                                        stdin=subprocess.DEVNULL,
                                        text=True, timeout=120)
            except subprocess.TimeoutExpired:
                errors.append(f"{table_path}:{e.lineno}: timed out after "
                              f"120 s: {command}")
                continue
            seconds = time.monotonic() - start
            output = result.stdout + result.stderr
            flat = " ".join(output.split())
            failed = []
            if result.returncode != 0:
                failed.append(f"exit status {result.returncode}")
            for want in expects:
                if " ".join(want.split()) not in flat:
                    failed.append(f"output lacks: {want}")
            if failed:
                tail = "\n".join(output.rstrip().split("\n")[-20:])
                errors.append(f"{table_path}:{e.lineno}: {'; '.join(failed)}:"
                              f"\n  $ {command}\n{tail}")
            else:
                log(f"ran   $ {normalize(command)}  ({seconds:.1f} s)")
    return errors


def describe(entry):
    kinds = entry.kinds()
    if "not-command" in kinds:
        return "not a command"
    if "manual" in kinds:
        return "manual"
    parts = []
    if kinds & RUN_KINDS:
        runs = sum(1 for k, _ in entry.items if k in RUN_KINDS)
        parts.append("run here" if runs > len(entry.values("only-if"))
                     else "run here if only-if holds")
    for kind in ("ctest", "ctest-label", "ci"):
        for value in entry.values(kind):
            parts.append(f"{kind} {value}")
    return ", ".join(parts)


# ---------------------------------------------------------------- self-test

def self_test(args, ctx):
    """The checker fails where it must. Copies of the README and table with
    one defect each; nothing is run but echo and false."""
    problems = []
    readme_path, other_docs = args.readme[0], args.readme[1:]
    with open(readme_path, encoding="utf-8") as f:
        readme_text = f.read()
    with open(args.table, encoding="utf-8") as f:
        table_text = f.read()

    def case(name, readme_extra, table_extra, want, run=False, doc_text=None):
        with tempfile.TemporaryDirectory(prefix="readme-selftest.") as d:
            readme = os.path.join(d, "README.md")
            docs = [] if run else list(other_docs)
            if doc_text is not None:
                docs.append(os.path.join(d, "extra.md"))
                with open(docs[-1], "w", encoding="utf-8") as f:
                    f.write(doc_text)
            table = os.path.join(d, "readme_commands.txt")
            case_ctx = ctx
            if run:
                # A run case checks a one-command README and table (only
                # echo, false or touch runs) against a two-file source tree.
                case_ctx = copy.copy(ctx)
                case_ctx.source_dir = os.path.join(d, "src")
                os.makedirs(os.path.join(case_ctx.source_dir, "tests"))
                with open(os.path.join(case_ctx.source_dir, "tests", "data"), "w"):
                    pass
            with open(readme, "w", encoding="utf-8") as f:
                f.write(readme_extra if run else readme_text + readme_extra)
            with open(table, "w", encoding="utf-8") as f:
                f.write(table_extra if run else table_text + table_extra)
            errors = check([readme] + docs, table, case_ctx, run,
                           os.path.join(d, "s"), log=lambda _: None)
            if run:
                written = [f for f in os.listdir(os.path.join(case_ctx.source_dir, "tests"))
                           if f != "data"]
                if written:
                    errors.append(f"a run wrote {written} into the source tree")
            hit = [e for e in errors if want and want in e]
            if want and not hit:
                problems.append(f"{name}: expected an error containing "
                                f"'{want}', got: {errors or 'none'}")
            if not want and errors:
                problems.append(f"{name}: expected no error, got: {errors}")
            print(f"self-test {name}: {'ok' if (hit if want else not errors) else 'FAILED'}")

    case("baseline", "", "", None)
    case("unmapped fenced command",
         "\n```sh\nbuild/tools/foldrt frobnicate --unmapped\n```\n", "",
         "neither run nor mapped by")
    case("unmapped console command",
         "\n```console\n$ tools/dev.sh frobnicate\nsome output\n```\n", "",
         "$ tools/dev.sh frobnicate")
    case("unmapped multi-line command",
         "\n```bash\ncmake --build build \\\n    --target frobnicate  # note\n```\n",
         "", "$ cmake --build build --target frobnicate")
    case("unmapped inline command",
         "\nRun `tools/dev.sh frobnicate --now` first.\n", "",
         "$ tools/dev.sh frobnicate --now")
    case("unmapped command in a doc", "", "",
         "extra.md:3: command (```sh block) neither run nor mapped by",
         doc_text="# Extra\n```sh\ntools/dev.sh frobnicate --in-docs\n```\n")
    case("command in an indented block",
         "\n\n    apt-get install -y frobnicate\n", "",
         "put it in a fenced ```sh block")
    case("stale entry", "", "\n$ tools/dev.sh no-such-command\nmanual: gone\n",
         "not a command in")
    case("missing CTest test",
         "\n```sh\ntools/dev.sh frobnicate\n```\n",
         "\n$ tools/dev.sh frobnicate\nctest: no_such_test_xyz\nwhy: x\n",
         "no CTest test 'no_such_test_xyz'")
    case("missing CTest label",
         "\n```sh\ntools/dev.sh frobnicate\n```\n",
         "\n$ tools/dev.sh frobnicate\nctest-label: no_such_label_xyz\nwhy: x\n",
         "no CTest test with label 'no_such_label_xyz'")
    case("missing CI line",
         "\n```sh\ntools/dev.sh frobnicate\n```\n",
         "\n$ tools/dev.sh frobnicate\nci: tools/dev.sh frobnicate\nwhy: x\n",
         ".ci/run has no line 'tools/dev.sh frobnicate'")
    case("no reason given",
         "\n```sh\ntools/dev.sh frobnicate\n```\n",
         "\n$ tools/dev.sh frobnicate\nci: tools/dev.sh test\n",
         "say why it is not run here")
    case("option not exercised",
         "\n```sh\nbuild/tools/foldrt frob x.onnx [--fast] [--slow]\n```\n",
         "\n$ build/tools/foldrt frob x.onnx [--fast] [--slow]\n"
         "run-as: build/tools/foldrt frob x.onnx --fast\n",
         "the README shows --slow")
    case("failing run",
         "\n```sh\nfalse\n```\n", "$ false\nrun\n",
         "exit status 1", run=True)
    case("missing expected output",
         "\n```sh\necho hello\n```\n", "$ echo hello\nrun\nexpect: goodbye\n",
         "output lacks: goodbye", run=True)
    case("passing run",
         "\n```sh\necho hello  # greet\n```\n", "$ echo hello\nrun\nexpect: hello\n",
         None, run=True)
    case("/tmp is a scratch folder",
         "\n```sh\necho /tmp/x\n```\n", "$ echo /tmp/x\nrun\nexpect: readme-selftest.\n",
         None, run=True)
    case("new files land in the scratch folder",
         "\n```sh\ntouch tests/new_file && test -f tests/data\n```\n",
         "$ touch tests/new_file && test -f tests/data\nrun\n", None, run=True)
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    print("self-test: the checker fails on every defect above")
    return 0


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--source-dir", default=os.path.dirname(os.path.dirname(here)))
    parser.add_argument("--build-dir", required=True)
    parser.add_argument("--ctest", default="ctest")
    parser.add_argument("--readme", nargs="+",
                        help="the documents whose commands are checked "
                        "(default: SOURCE_DIR/README.md and SOURCE_DIR/docs/*.md)")
    parser.add_argument("--table", default=os.path.join(here, "readme_commands.txt"))
    parser.add_argument("--no-run", action="store_true")
    parser.add_argument("--self-test", action="store_true")
    args = parser.parse_args()
    if not args.readme:
        docs = os.path.join(args.source_dir, "docs")
        args.readme = [os.path.join(args.source_dir, "README.md")] + sorted(
            os.path.join(docs, name) for name in os.listdir(docs)
            if name.endswith(".md"))
    ctx = Context(args)
    if args.self_test:
        return self_test(args, ctx)

    scratch = tempfile.mkdtemp(prefix="readme-commands.")
    try:
        errors = check(args.readme, args.table, ctx, not args.no_run, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if not errors:
        readme = Documents(args.readme, ctx.source_dir)
        entries, _ = parse_table(args.table)
        print(f"\n{len(readme.commands)} commands in {readme.name()}:")
        for e in entries:
            print(f"  {describe(e):56.56}  $ {e.key[:90]}")
        if args.no_run:
            print("(--no-run: nothing was run; the native build's test runs them)")
    for error in errors:
        print(f"error: {error}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
