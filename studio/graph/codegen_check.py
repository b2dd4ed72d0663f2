"""Proving a generated module's structure before anything runs it.

`check_source` accepts exactly the shape `studio.graph.codegen.generate` writes and
nothing more, so a module made from a tampered or hostile project file is refused
before it is imported: no statement in it can run anything but building layers
from literals and calling them in order.
"""
from __future__ import annotations

import ast
import builtins
import inspect
import keyword
from typing import TYPE_CHECKING

from studio.graph import modules as helper_modules
from studio.graph.layers.block import MAX_REPEAT

if TYPE_CHECKING:
    from studio.graph.model import GraphModel

BLOCK_NAME = "block_name"  # a block class's optional first line: the block's name as a string literal
# Module-level names a block class must never take: they are used by the generated code
# itself (builtins such as float/range/super, the imports, the constants).
BASE_RESERVED = frozenset(dir(builtins)) | frozenset(keyword.kwlist) | {"torch", "nn", "NAME", "WEIGHTS"}


class CodegenError(ValueError):
    """The graph holds something that cannot be written as safe source; or a generated
    module does not have the expected structure (so it must not be run)."""
    exit_code = 2


def helper_classes() -> dict[str, str]:
    """Studio's own helper classes (copied verbatim into generated modules), as AST dumps."""
    return {name: ast.dump(ast.parse(inspect.getsource(getattr(helper_modules, name))).body[0])
            for name in dir(helper_modules) if inspect.isclass(getattr(helper_modules, name))}


def repeat_source(cls: str, n: int) -> str:
    """How a repeated block is built: n copies of its class, each with its own weights."""
    return f"nn.Sequential(*[{cls}() for _ in range({n})])"


def _literal(node: ast.AST) -> bool:
    """A constant, a tuple of them, -constant, or float('<text>') (non-finite floats)."""
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.Tuple):
        return all(_literal(e) for e in node.elts)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return isinstance(node.operand, ast.Constant)
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "float"
            and len(node.args) == 1 and not node.keywords and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str))


def _pure_literal(node: ast.AST) -> bool:
    try:
        ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return True


def _is(node: ast.AST, cls, **fields) -> bool:
    return isinstance(node, cls) and all(getattr(node, k, None) == v for k, v in fields.items())


def _self_attr(node: ast.AST) -> str | None:
    if isinstance(node, ast.Attribute) and _is(node.value, ast.Name, id="self"):
        return node.attr
    return None


def _all_ids(model: "GraphModel") -> set[str]:
    ids = set(model.nodes())
    for n in model.nodes():
        if model.type_of(n) == "Block":
            ids |= _all_ids(model.body(n))
    return ids


def check_source(source: str, model: "GraphModel | None" = None, class_name: str = "StudioModel", *,
                 tail_constants: tuple[str, ...] = (), trusted_classes: list[str] = ()) -> None:
    """Raise CodegenError unless `source` is exactly what `generate` writes: a docstring, the two
    torch imports, NAME/WEIGHTS string literals, Studio's own helper classes verbatim, then one
    class per block and the network class, each of whose __init__ only builds layers from literals
    (a block: its class called with no arguments, or an nn.Sequential of copies of it) and whose
    forward only calls them. After it, a caller may allow literal-only assignments to
    `tail_constants` and classes identical to `trusted_classes` (source made without any text
    from a file). Nothing from the text can then run as code when the module is imported."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, MemoryError, RecursionError) as e:
        raise CodegenError(f"the generated module does not parse ({e})") from None
    trusted = helper_classes()
    body = list(tree.body)

    def bad(what: str) -> CodegenError:
        return CodegenError(f"the generated module has an unexpected {what}; it was not run")

    if not (body and _is(body[0], ast.Expr) and _is(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)):
        raise bad("start")
    body.pop(0)
    imports = body[:2]
    if not (len(imports) == 2 and _is(imports[0], ast.Import) and [a.name for a in imports[0].names] == ["torch"]
            and imports[0].names[0].asname is None and _is(imports[1], ast.ImportFrom, module="torch", level=0)
            and [(a.name, a.asname) for a in imports[1].names] == [("nn", None)]):
        raise bad("import")
    body = body[2:]
    for const in ("NAME", "WEIGHTS"):
        node = body.pop(0) if body else None
        if not (_is(node, ast.Assign) and len(node.targets) == 1 and _is(node.targets[0], ast.Name, id=const)
                and _is(node.value, ast.Constant) and isinstance(node.value.value, str)):
            raise bad(f"{const} line")
    before = []
    while body and isinstance(body[0], ast.ClassDef) and body[0].name != class_name:
        before.append(body.pop(0))
    main = body.pop(0) if body else None
    tail_classes = [ast.parse(src).body[0] for src in trusted_classes]
    reserved = (BASE_RESERVED | set(trusted) | {class_name} | set(tail_constants)
                | {c.name for c in tail_classes if isinstance(c, ast.ClassDef)})
    helper_names: set[str] = set()
    block_names: set[str] = set()
    for c in before:  # Studio's helpers first, then the block classes, each defined before its use
        if c.name in trusted:
            if block_names or c.name in helper_names or ast.dump(c) != trusted[c.name]:
                raise bad("helper class")
            helper_names.add(c.name)
        else:
            if c.name in reserved or c.name in block_names:
                raise bad("block class name")
            _check_class(c, c.name, helper_names, block_names, bad, one_input=True)
            block_names.add(c.name)
    tail_dumps = {ast.dump(c) for c in tail_classes}
    for node in body:
        if isinstance(node, ast.ClassDef):
            if ast.dump(node) not in tail_dumps:
                raise bad("class after the network")
        elif not (_is(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
                  and node.targets[0].id in tail_constants and _pure_literal(node.value)):
            raise bad("statement after the network")
    layers = _check_class(main, class_name, helper_names, block_names, bad, one_input=False)
    if model is not None and set(layers) - _all_ids(model):
        raise bad("layer name")


def _check_class(cls: ast.AST, name: str, helper_names: set[str], block_names: set[str], bad,
                 one_input: bool) -> list[str]:
    """One network or block class: `class <name>(nn.Module)` with only __init__ and forward
    (a block class may first say its block's name: `block_name = '<text>'`)."""
    if not (isinstance(cls, ast.ClassDef) and cls.name == name and not cls.decorator_list
            and not cls.keywords and not getattr(cls, "type_params", None)
            and len(cls.bases) == 1 and ast.unparse(cls.bases[0]) == "nn.Module"):
        raise bad("class")
    body = list(cls.body)
    if one_input and body and _is(body[0], ast.Assign):  # a block class: `block_name = '<text>'` first
        first = body.pop(0)
        if not (len(first.targets) == 1 and _is(first.targets[0], ast.Name, id=BLOCK_NAME)
                and _is(first.value, ast.Constant) and isinstance(first.value.value, str)):
            raise bad("class body")
    if [getattr(f, "name", None) for f in body] != ["__init__", "forward"] or \
            not all(isinstance(f, ast.FunctionDef) and not f.decorator_list and f.returns is None
                    for f in body):
        raise bad("class body")
    init, forward = body
    _check_init(init, helper_names, block_names, bad)
    return _check_forward(forward, bad, one_input)


def _no_defaults(f: ast.FunctionDef) -> bool:
    """Plain positional arguments only: no defaults, and no annotations (both run at definition)."""
    a = f.args
    return not (a.defaults or a.kw_defaults or a.vararg or a.kwarg or a.kwonlyargs or a.posonlyargs
                or any(x.annotation is not None for x in a.args) or getattr(f, "type_params", None))


def _repeat_ok(call: ast.Call, block_names: set[str]) -> bool:
    """Exactly `nn.Sequential(*[<Block>() for _ in range(<2..MAX_REPEAT>)])`."""
    try:
        comp = call.args[0].value
        cls, n = comp.elt.func.id, comp.generators[0].iter.args[0].value
    except (AttributeError, IndexError, TypeError):
        return False
    if cls not in block_names or type(n) is not int or not 2 <= n <= MAX_REPEAT:
        return False
    return ast.dump(call) == ast.dump(ast.parse(repeat_source(cls, n), mode="eval").body)


def _layer_ok(value: ast.AST, helper_names: set[str], block_names: set[str]) -> bool:
    if not isinstance(value, ast.Call):
        return False
    func = value.func
    if _is(func, ast.Name) and func.id in block_names:  # a block: its class, no arguments
        return not value.args and not value.keywords
    if value.args:
        return _repeat_ok(value, block_names)
    if not all(k.arg and _literal(k.value) for k in value.keywords):
        return False
    return ((_is(func, ast.Attribute) and _is(func.value, ast.Name, id="nn"))
            or (_is(func, ast.Name) and func.id in helper_names))


def _check_init(init: ast.FunctionDef, helper_names: set[str], block_names: set[str], bad) -> None:
    if not (_no_defaults(init) and [a.arg for a in init.args.args] == ["self"]):
        raise bad("__init__ signature")
    first, *rest = init.body
    if ast.unparse(first) != "super().__init__()":
        raise bad("__init__ start")
    for stmt in rest:
        if not (_is(stmt, ast.Assign) and len(stmt.targets) == 1 and _self_attr(stmt.targets[0])
                and _layer_ok(stmt.value, helper_names, block_names)):
            raise bad("layer line")


def _check_forward(forward: ast.FunctionDef, bad, one_input: bool) -> list[str]:
    if not (_no_defaults(forward) and forward.args.args and forward.args.args[0].arg == "self"
            and (len(forward.args.args) == 2 or not one_input)):
        raise bad("forward signature")
    *steps, ret = forward.body
    layers = []
    for stmt in steps:
        ok = (_is(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)
              and isinstance(stmt.value, ast.Call) and _self_attr(stmt.value.func) and not stmt.value.keywords
              and all(isinstance(a, ast.Name) for a in stmt.value.args))
        if not ok:
            raise bad("forward line")
        layers.append(_self_attr(stmt.value.func))
    if not (_is(ret, ast.Return) and isinstance(ret.value, ast.Name)):
        raise bad("return")
    return layers
