#!/usr/bin/env python3
"""Checks python/beamline/_native.pyi against the built module: the same
functions, classes, methods and parameter names. Exits 1 naming each drift."""

import ast
import inspect
import pathlib
import sys

import beamline._native as native

STUBS = pathlib.Path(__file__).resolve().parent.parent / "python" / "beamline" / "_native.pyi"


def stub_params(fn):
    args = fn.args
    names = [a.arg for a in args.posonlyargs + args.args + args.kwonlyargs]
    return [n for n in names if n != "self"]


def native_params(obj):
    sig = getattr(obj, "__text_signature__", None)
    if sig is None:
        return None
    sig = sig.replace("$self, ", "").replace("($self)", "()").replace("$self", "")
    try:
        return [p for p in inspect.signature(_fake(sig)).parameters]
    except (ValueError, SyntaxError):
        return None


def _fake(sig):
    ns = {}
    exec("def f%s: pass" % sig.replace("$", ""), ns)  # noqa: S102 - our own module's signatures
    return ns["f"]


def public(names):
    return {n for n in names if not n.startswith("_")}


def main():
    tree = ast.parse(STUBS.read_text())
    problems = []
    stub_funcs = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    stub_classes = {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}
    module_names = public(dir(native))
    for name in sorted(module_names - set(stub_funcs) - set(stub_classes)):
        problems.append("the module has '%s', the stubs do not" % name)
    for name in sorted((set(stub_funcs) | set(stub_classes)) - module_names):
        problems.append("the stubs have '%s', the module does not" % name)
    for name, fn in stub_funcs.items():
        if hasattr(native, name):
            got = native_params(getattr(native, name))
            if got is not None and got != stub_params(fn):
                problems.append("%s: the module takes %s, the stubs say %s" % (name, got, stub_params(fn)))
    for name, cls in stub_classes.items():
        real = getattr(native, name, None)
        if real is None or issubclass(real, BaseException):
            continue
        methods = {n.name: n for n in cls.body if isinstance(n, ast.FunctionDef)}
        real_methods = public(k for k, v in vars(real).items() if callable(v))
        for m in sorted(real_methods - set(methods)):
            problems.append("%s.%s is in the module, not in the stubs" % (name, m))
        for m, fn in methods.items():
            if m == "__init__":
                got = native_params(real)
            elif m not in vars(real):
                problems.append("%s.%s is in the stubs, not in the module" % (name, m))
                continue
            else:
                got = native_params(vars(real)[m])
            if got is not None and got != stub_params(fn):
                problems.append("%s.%s: the module takes %s, the stubs say %s" % (name, m, got, stub_params(fn)))
    for p in problems:
        print("stub drift: " + p, file=sys.stderr)
    if problems:
        return 1
    print("stubs match beamline._native (%d functions, %d classes)" % (len(stub_funcs), len(stub_classes)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
