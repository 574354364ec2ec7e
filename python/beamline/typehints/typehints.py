"""Beam's type hints: ``Any``, ``Union``, ``Optional``, ``Tuple`` (and ``KV``),
``List``, ``Dict``, ``Set``, ``FrozenSet``, ``Iterable``, ``Iterator``, and
``is_consistent_with``, which decides whether a PCollection of one type may
feed a transform that declares another. They print as Beam's do, so type
errors read the same."""

import collections.abc
import types
import typing

__all__ = [
    "Any", "Union", "Optional", "Tuple", "KV", "List", "Dict", "Set", "FrozenSet", "Iterable", "Iterator", "Sequence",
    "Collection", "Generator", "TypeVariable", "WindowedValue", "TypeConstraint", "is_consistent_with", "normalize",
]


class TypeConstraint:
    """A type hint that is not a plain class."""

    def __ne__(self, other):
        return not self == other


def _repr(t):
    return repr(t) if not isinstance(t, type) or isinstance(t, TypeConstraint) else "%r" % (t,)


class AnyTypeConstraint(TypeConstraint):
    def __eq__(self, other):
        return type(self) is type(other)

    def __hash__(self):
        return hash(type(self))

    def __repr__(self):
        return "Any"

    def type_check(self, instance):
        pass


class TypeVariable(AnyTypeConstraint):
    """A type variable (``K``, ``V``): any type, named."""

    def __init__(self, name):
        self.name = name

    def __eq__(self, other):
        return type(self) is type(other) and self.name == other.name

    def __hash__(self):
        return hash((type(self), self.name))

    def __repr__(self):
        return "TypeVariable[%s]" % self.name


class UnionConstraint(TypeConstraint):
    def __init__(self, union_types):
        self.union_types = frozenset(union_types)

    def __eq__(self, other):
        return type(self) is type(other) and self.union_types == other.union_types

    def __hash__(self):
        return hash(self.union_types)

    def __repr__(self):
        return "Union[%s]" % ", ".join(sorted(_repr(t) for t in self.union_types))


class _UnionHint:
    def __getitem__(self, params):
        if not isinstance(params, (tuple, list, set, frozenset)):
            raise TypeError("Cannot create Union without a sequence of types.")
        flat = []
        for p in params:
            p = normalize(p)
            if isinstance(p, UnionConstraint):
                flat.extend(p.union_types)
            else:
                flat.append(p)
        if any(isinstance(p, AnyTypeConstraint) and not isinstance(p, TypeVariable) for p in flat):
            return Any
        unique = []
        for p in flat:
            if p not in unique:
                unique.append(p)
        if len(unique) == 1:
            return unique[0]
        return UnionConstraint(unique)


class _OptionalHint:
    def __getitem__(self, param):
        if isinstance(param, (tuple, list)):
            raise TypeError("An Option type-hint only accepts a single type parameter.")
        return Union[type(None), param]


class TupleConstraint(TypeConstraint):
    def __init__(self, tuple_types):
        self.tuple_types = tuple(normalize(t) for t in tuple_types)

    def __eq__(self, other):
        return type(self) is type(other) and self.tuple_types == other.tuple_types

    def __hash__(self):
        return hash(self.tuple_types)

    def __repr__(self):
        return "Tuple[%s]" % ", ".join(_repr(t) for t in self.tuple_types)


class _SequenceConstraint(TypeConstraint):
    _name = None

    def __init__(self, inner_type):
        self.inner_type = normalize(inner_type)

    def __eq__(self, other):
        return type(self) is type(other) and self.inner_type == other.inner_type

    def __hash__(self):
        return hash((type(self), self.inner_type))

    def __repr__(self):
        return "%s[%s]" % (self._name, _repr(self.inner_type))


class TupleSequenceConstraint(_SequenceConstraint):
    def __repr__(self):
        return "Tuple[%s, ...]" % _repr(self.inner_type)


class ListConstraint(_SequenceConstraint):
    _name = "List"


class SetTypeConstraint(_SequenceConstraint):
    _name = "Set"


class FrozenSetTypeConstraint(_SequenceConstraint):
    _name = "FrozenSet"


class IterableTypeConstraint(_SequenceConstraint):
    _name = "Iterable"


class IteratorTypeConstraint(_SequenceConstraint):
    _name = "Iterator"


class SequenceTypeConstraint(_SequenceConstraint):
    _name = "Sequence"


class CollectionTypeConstraint(_SequenceConstraint):
    _name = "Collection"


class DictConstraint(TypeConstraint):
    def __init__(self, key_type, value_type):
        self.key_type = normalize(key_type)
        self.value_type = normalize(value_type)

    def __eq__(self, other):
        return type(self) is type(other) and (self.key_type, self.value_type) == (other.key_type, other.value_type)

    def __hash__(self):
        return hash((self.key_type, self.value_type))

    def __repr__(self):
        return "Dict[%s, %s]" % (_repr(self.key_type), _repr(self.value_type))


class WindowedTypeConstraint(_SequenceConstraint):
    _name = "WindowedValue"


class _TupleHint:
    def __getitem__(self, params):
        if not isinstance(params, tuple):
            params = (params,)
        if len(params) == 2 and params[1] is Ellipsis:
            return TupleSequenceConstraint(params[0])
        return TupleConstraint(params)


class _KVHint:
    def __getitem__(self, params):
        if not isinstance(params, tuple) or len(params) != 2:
            raise TypeError("Length of parameters to a KV type-hint must be exactly 2. Passed parameters: %s"
                            % (params,))
        return TupleConstraint(params)


class _OneParam:
    def __init__(self, cls):
        self._cls = cls

    def __getitem__(self, param):
        return self._cls(param)


class _DictHint:
    def __getitem__(self, params):
        if not isinstance(params, tuple) or len(params) != 2:
            raise TypeError("Length of parameters to a Dict type-hint must be exactly 2. Passed parameters: %s"
                            % (params,))
        return DictConstraint(*params)


class _GeneratorHint:
    def __getitem__(self, params):
        yield_type = params[0] if isinstance(params, tuple) else params
        return IteratorTypeConstraint(yield_type)


Any = AnyTypeConstraint()
Union = _UnionHint()
Optional = _OptionalHint()
Tuple = _TupleHint()
KV = _KVHint()
List = _OneParam(ListConstraint)
Set = _OneParam(SetTypeConstraint)
FrozenSet = _OneParam(FrozenSetTypeConstraint)
Iterable = _OneParam(IterableTypeConstraint)
Iterator = _OneParam(IteratorTypeConstraint)
Sequence = _OneParam(SequenceTypeConstraint)
Collection = _OneParam(CollectionTypeConstraint)
Generator = _GeneratorHint()
Dict = _DictHint()
WindowedValue = _OneParam(WindowedTypeConstraint)

_BARE = {list: lambda: List[Any], tuple: lambda: Tuple[Any, ...], dict: lambda: Dict[Any, Any],
         set: lambda: Set[Any], frozenset: lambda: FrozenSet[Any]}

_ABC = {collections.abc.Iterable: Iterable, collections.abc.Iterator: Iterator, collections.abc.Sequence: Sequence,
        collections.abc.Collection: Collection, collections.abc.Generator: Generator, list: List, set: Set,
        frozenset: FrozenSet}


def normalize(t):
    """Beam's form of a hint: ``typing`` and built-in generics become Beam's constraints."""
    if t is None:
        return type(None)
    if isinstance(t, TypeConstraint):
        return t
    if t is typing.Any or t is object:
        return Any if t is typing.Any else t
    if isinstance(t, typing.TypeVar):
        return TypeVariable(t.__name__)
    origin = typing.get_origin(t)
    if origin is None:
        return t
    args = typing.get_args(t)
    if origin is typing.Union or (hasattr(types, "UnionType") and origin is types.UnionType):
        return Union[args]
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return Tuple[args[0], ...]
        return TupleConstraint(args)
    if origin is dict or origin is collections.abc.Mapping:
        return Dict[args[0], args[1]] if len(args) == 2 else Dict[Any, Any]
    hint = _ABC.get(origin)
    if hint is not None:
        return hint[args[0] if args else Any]
    return t


def _element_hint(c):
    """The element type of a sequence-like constraint, or None."""
    if isinstance(c, _SequenceConstraint) and not isinstance(c, WindowedTypeConstraint):
        return c.inner_type
    return None


def is_consistent_with(sub, base):
    """Whether values of type ``sub`` may be used where ``base`` is expected."""
    sub, base = normalize(sub), normalize(base)
    if sub == base:
        return True
    if isinstance(sub, AnyTypeConstraint) or isinstance(base, AnyTypeConstraint) or base is object:
        return True
    if sub in _BARE:
        sub = _BARE[sub]()
    if base in _BARE:
        base = _BARE[base]()
    if isinstance(sub, UnionConstraint):
        return all(is_consistent_with(t, base) for t in sub.union_types)
    if isinstance(base, UnionConstraint):
        return any(is_consistent_with(sub, t) for t in base.union_types)
    if isinstance(base, TupleConstraint):
        return (isinstance(sub, TupleConstraint) and len(sub.tuple_types) == len(base.tuple_types)
                and all(is_consistent_with(a, b) for a, b in zip(sub.tuple_types, base.tuple_types)))
    if isinstance(base, DictConstraint):
        return (isinstance(sub, DictConstraint) and is_consistent_with(sub.key_type, base.key_type)
                and is_consistent_with(sub.value_type, base.value_type))
    if isinstance(base, _SequenceConstraint):
        inner = base.inner_type
        if isinstance(base, (IterableTypeConstraint, CollectionTypeConstraint)):
            if isinstance(sub, TupleConstraint):
                return all(is_consistent_with(t, inner) for t in sub.tuple_types)
            if isinstance(sub, DictConstraint):
                return is_consistent_with(sub.key_type, inner)
            if isinstance(sub, _SequenceConstraint) and not isinstance(sub, WindowedTypeConstraint):
                return is_consistent_with(sub.inner_type, inner)
            return False
        if isinstance(base, SequenceTypeConstraint):
            if isinstance(sub, TupleConstraint):
                return all(is_consistent_with(t, inner) for t in sub.tuple_types)
            if isinstance(sub, (ListConstraint, TupleSequenceConstraint, SequenceTypeConstraint)):
                return is_consistent_with(sub.inner_type, inner)
            return False
        if isinstance(base, TupleSequenceConstraint) and isinstance(sub, TupleConstraint):
            return all(is_consistent_with(t, inner) for t in sub.tuple_types)
        return type(sub) is type(base) and is_consistent_with(sub.inner_type, inner)
    if isinstance(sub, TypeConstraint):
        return False
    if isinstance(sub, type) and isinstance(base, type):
        return issubclass(sub, base)
    return False


def _shape(o):
    """A hashable summary of a value's type, cheap to compute for many values."""
    t = type(o)
    if t is tuple:
        return (tuple, tuple(_shape(x) for x in o))
    if t is list or t is set or t is frozenset:
        return (t, frozenset(_shape(x) for x in o))
    if t is dict:
        return (dict, frozenset(_shape(k) for k in o), frozenset(_shape(v) for v in o.values()))
    return t


def _shape_to_type(shape):
    if not isinstance(shape, tuple):
        return shape
    t = shape[0]
    if t is tuple:
        return TupleConstraint([_shape_to_type(x) for x in shape[1]])
    if t is dict:
        if not shape[1]:
            return Dict[Any, Any]
        return Dict[Union[[_shape_to_type(x) for x in shape[1]]], Union[[_shape_to_type(x) for x in shape[2]]]]
    hint = {list: List, set: Set, frozenset: FrozenSet}[t]
    return hint[Union[[_shape_to_type(x) for x in shape[1]]]] if shape[1] else hint[Any]


def union_of_instances(values):
    """The type hint of a collection of values (Beam's inference for ``Create``)."""
    shapes = {}
    for v in values:
        shapes.setdefault(_shape(v), None)
    return Union[[_shape_to_type(s) for s in shapes]] if shapes else Any


def instance_to_type(o):
    """The type hint of a value, as Beam infers it for ``Create``."""
    t = type(o)
    if o is None:
        return type(None)
    if t is tuple:
        return TupleConstraint([instance_to_type(x) for x in o])
    if t is list:
        return List[Union[[instance_to_type(x) for x in o]]] if o else List[Any]
    if t is set:
        return Set[Union[[instance_to_type(x) for x in o]]] if o else Set[Any]
    if t is frozenset:
        return FrozenSet[Union[[instance_to_type(x) for x in o]]] if o else FrozenSet[Any]
    if t is dict:
        if not o:
            return Dict[Any, Any]
        return Dict[Union[[instance_to_type(k) for k in o]], Union[[instance_to_type(v) for v in o.values()]]]
    return t


def key_value_types(kv_type):
    """``(key type, value type)`` of a KV hint; ``(Any, Any)`` when unknown."""
    kv_type = normalize(kv_type)
    if isinstance(kv_type, TupleConstraint) and len(kv_type.tuple_types) == 2:
        return kv_type.tuple_types
    return Any, Any


def element_type_of(iterable_hint):
    """``T`` of ``Iterable[T]`` (and the other sequences), else ``Any``."""
    inner = _element_hint(normalize(iterable_hint))
    return Any if inner is None else inner
