import pytest

from apidocs.docs import build_docs
from apidocs.protos import ProtoCompileError, compile_protos, parse_descriptor_set, read_proto_dir


def test_compiles_every_shared_proto_with_imports_and_source_info(protos_dir):
    files = read_proto_dir(protos_dir)
    fds = parse_descriptor_set(compile_protos(files))
    assert len(files) == 32
    assert len(fds.file) == 40  # 32 + 8 well-known types pulled in by --include_imports
    targets = [f for f in fds.file if f.name in files]
    assert sum(len(f.service) for f in targets) == 17
    assert all(f.source_code_info.location for f in targets)


def test_google_api_imports_resolve_from_googleapis_common_protos():
    files = {
        "svc.proto": 'syntax = "proto3";\nimport "google/api/annotations.proto";\n'
        'import "google/type/date.proto";\nimport "google/rpc/status.proto";\n'
        "message M { google.type.Date d = 1; google.rpc.Status s = 2; }\n"
        'service S { rpc Get(M) returns (M) { option (google.api.http) = { get: "/m" }; } }\n'
    }
    fds = parse_descriptor_set(compile_protos(files))
    docs = build_docs(fds, {"svc.proto"})
    method = docs.packages[""][0].services[0].methods[0]
    assert method.http == [("GET", "/m", "")]


def test_compile_errors_name_file_line_and_column():
    files = {
        "a/x.proto": 'syntax = "proto3";\npackage a;\nmessage X {\n  strin y = 1;\n}\n',
    }
    with pytest.raises(ProtoCompileError) as info:
        compile_protos(files)
    [error] = info.value.errors
    assert (error.file, error.line, error.column) == ("a/x.proto", 4, 3)
    assert "strin" in error.message


def test_missing_import_is_reported():
    with pytest.raises(ProtoCompileError) as info:
        compile_protos({"b.proto": 'syntax = "proto3";\nimport "nope/missing.proto";\n'})
    assert any("nope/missing.proto" in str(e) for e in info.value.errors)


def test_paths_escaping_the_set_are_refused():
    with pytest.raises(ValueError):
        compile_protos({"../evil.proto": 'syntax = "proto3";'})


def test_docs_render_streaming_kinds_maps_oneofs_and_comments(protos_dir):
    files = read_proto_dir(protos_dir)
    docs = build_docs(parse_descriptor_set(compile_protos(files)), set(files))
    [route_file] = docs.packages["routeguide"]
    kinds = {m.name: m.streaming_kind for m in route_file.services[0].methods}
    assert kinds == {
        "GetFeature": "unary",
        "ListFeatures": "server streaming",
        "RecordRoute": "client streaming",
        "RouteChat": "bidirectional streaming",
    }
    assert "Obtains the feature at a given position." in route_file.services[0].methods[0].comment
    request = route_file.services[0].methods[0].request
    assert request.anchor == "routeguide.Point"
    names = {s[0] for s in docs.symbols}
    assert {"routeguide.RouteGuide.RouteChat", "routeguide.Point.latitude"} <= names
