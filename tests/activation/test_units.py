"""Small parts: token bucket, backoff wait, config validation, templates, masking, addresses."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jinja2 import StrictUndefined, UndefinedError
from jinja2.sandbox import SandboxedEnvironment
from tenacity import RetryCallState, Retrying

from activation.addresses import InvalidAddress, check_address
from activation.config import load_config
from activation.destinations import resolve
from activation.flow import TokenBucket, wait_backoff_or_retry_after
from activation.pii import mask_email, mask_payload, mask_phone
from activation.templates import RenderFailed, TemplateStore, UnknownTemplate
from omniplay.errors import ConfigError, RetriableDestinationError
from tests.activation.conftest import write_destinations, write_template


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_token_bucket_allows_burst_then_paces():
    clock = FakeClock()
    bucket = TokenBucket(rate=10, burst=5, clock=clock, sleep=clock.sleep)
    for _ in range(5):
        assert bucket.acquire() == 0
    for _ in range(10):
        bucket.acquire()
    assert clock.now == pytest.approx(1.0)  # 10 more tokens at 10/s after the burst
    clock.now += 100  # idle: refills only up to the burst
    for _ in range(5):
        assert bucket.acquire() == 0
    assert bucket.acquire() == pytest.approx(0.1)


def _state(exc: Exception, attempt: int) -> RetryCallState:
    state = RetryCallState(Retrying(), fn=None, args=(), kwargs={})
    state.attempt_number = attempt
    state.set_exception((type(exc), exc, None))
    return state


def test_backoff_grows_with_jitter_and_honours_retry_after():
    wait = wait_backoff_or_retry_after(initial=0.5, maximum=8)
    first = [wait(_state(RetriableDestinationError("x"), 1)) for _ in range(50)]
    fourth = [wait(_state(RetriableDestinationError("x"), 4)) for _ in range(50)]
    assert 0.5 <= min(first) and max(first) <= 1.0 and len(set(first)) > 1  # jittered
    assert min(fourth) >= 4.0 and max(fourth) <= 8.0
    told = [wait(_state(RetriableDestinationError("429", retry_after=30), 1)) for _ in range(20)]
    assert min(told) >= 30  # beyond backoff_max, because the server said so


def test_config_errors_are_clear(project, monkeypatch):
    write_destinations(project, "x: {type: outbox, max_concurrency: 0}")
    cfg = load_config(project)
    with pytest.raises(ConfigError, match=r"destinations.yml: destinations.x.max_concurrency: Input should be "
                                          r"greater than or equal to 1"):
        cfg.build("x")
    write_destinations(project, "x: {type: outbox, settings: {colour: red}}")
    with pytest.raises(ConfigError, match=r"destinations.x.settings.colour: Extra inputs are not permitted"):
        load_config(project).build("x")
    write_destinations(project, "x: {type: pigeon}")
    with pytest.raises(ConfigError, match="unknown destination type 'pigeon'"):
        load_config(project).build("x")
    write_destinations(project, "x: {type: no_such_module.Thing}")
    with pytest.raises(ConfigError, match="cannot load destination type"):
        load_config(project).build("x")
    (project / "activation" / "destinations.yml").write_text("destinations: [1, 2")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(project)
    with pytest.raises(ConfigError, match="not found"):
        load_config(project, project / "missing.yml")


def test_env_references_and_defaults(project, monkeypatch):
    monkeypatch.setenv("TEST_OUT", "elsewhere")
    monkeypatch.delenv("TEST_UNSET", raising=False)
    write_destinations(project, "a: {type: outbox, settings: {dir: '${TEST_OUT}'}}\n"
                                "b: {type: outbox, settings: {dir: '${TEST_UNSET:-fallback}/x'}}")
    cfg = load_config(project)
    assert cfg.build("a")[0].root == project / "elsewhere"
    assert cfg.build("b")[0].root == project / "fallback" / "x"


def test_shipped_destinations_file_is_valid(monkeypatch):
    from tests.activation.conftest import REPO

    for var in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "OMNIPLAY_STORE_WEBHOOK_URL",
                "OMNIPLAY_STORE_WEBHOOK_SECRET"):
        monkeypatch.setenv(var, "x")
    monkeypatch.setenv("TWILIO_FROM_NUMBER", "+15005550006")
    cfg = load_config(REPO)
    for name in cfg.names:
        destination, _ = cfg.build(name)
        assert destination.type_name == cfg.destination_config(name).type
    store = TemplateStore(cfg.templates_dir)
    assert "default" in store.names()
    for name in store.names():
        store.load(name)  # every shipped template parses and compiles


def test_resolve_by_short_name_and_dotted_path():
    assert resolve("outbox").__name__ == "OutboxDestination"
    assert resolve("tests.activation.fakes.FlakyDestination").type_name == "flaky"
    with pytest.raises(ConfigError, match="not a Destination subclass"):
        resolve("activation.flow.TokenBucket")


def test_templates_validate_and_sandbox(project):
    store = TemplateStore(project / "activation" / "templates")
    write_template(project, "bad_part", "variants:\n  sms: {text: hi}\n")
    with pytest.raises(ConfigError, match=r"bad_part.yml: variants.sms: unknown parts \['text'\]"):
        store.load("bad_part")
    write_template(project, "bad_syntax", "variants:\n  sms: {body: '{{ oops'}\n")
    with pytest.raises(ConfigError, match=r"bad_syntax.yml: variants.sms.body"):
        store.load("bad_syntax")
    with pytest.raises(UnknownTemplate):
        store.load("../etc/passwd")
    write_template(project, "escape", "variants:\n  sms: {body: \"{{ ''.__class__.__mro__ }}\"}\n")
    with pytest.raises(RenderFailed, match="SecurityError|UndefinedError"):
        store.render("escape", "sms", {})
    write_template(project, "no_store", "variants:\n  sms: {body: hi}\n")
    with pytest.raises(RenderFailed, match="no store variant"):
        store.render("no_store", "store", {})


def test_masking():
    assert mask_email("jane.doe@example.com") == "j***@e***.com"
    assert mask_phone("+14155550123") == "+1********23"
    masked = mask_payload({"first_name": "Zoë", "email": "a@b.co", "note": "call +14155550123",
                           "items": [{"last_name": "Müller"}], "tier": "gold"})
    assert masked == {"first_name": "Z***", "email": "a***@b***.co", "note": "call +1********23",
                      "items": [{"last_name": "M***"}], "tier": "gold"}


@pytest.mark.parametrize("channel, address, ok", [
    ("email", "ann@example.com", True), ("email", "ann@@example.com", False), ("email", "ann", False),
    ("sms", "+442071838750", True), ("sms", "02071838750", False), ("sms", "+1234", False),
    ("store", "S001", True), ("store", "S 001", False), ("email", None, False),
])
def test_address_checks(channel, address, ok):
    if ok:
        check_address(channel, address)
    else:
        with pytest.raises(InvalidAddress):
            check_address(channel, address)


_VALUES = st.one_of(st.sampled_from(["a", "b", "1"]), st.sampled_from([1, 0]), st.sampled_from([1.0, True, False]),
                    st.none(), st.lists(st.sampled_from(["a", "b"]), max_size=2))


@settings(max_examples=150, deadline=None)
@given(contexts=st.lists(st.dictionaries(st.sampled_from(["x", "y", "unused"]), _VALUES, max_size=3),
                         min_size=1, max_size=12))
def test_memoized_renders_match_a_fresh_render(tmp_path_factory, contexts):
    """Rendering memoized on the variables a variant reads gives what a plain render gives,
    including values equal across types (1, 1.0, True) and missing variables."""
    root = tmp_path_factory.mktemp("memo")
    (root / "activation" / "templates").mkdir(parents=True)
    body = "{{ x }}{% if y is defined %}/{{ y }}{% endif %}"
    write_template(root, "memo", f"variants:\n  sms: {{body: '{body}'}}\nfallback:\n  sms: {{body: fallback}}\n")
    store = TemplateStore(root / "activation" / "templates")
    oracle = SandboxedEnvironment(undefined=StrictUndefined).from_string(body)
    for context in contexts * 2:  # the second pass reads the memo
        try:
            expected = oracle.render(context)
        except UndefinedError:
            expected = None
        rendered = store.render("memo", "sms", context)
        assert (rendered.parts["body"] if rendered.fallback_reason is None else None) == expected


def test_random_output_is_never_memoized(project):
    write_template(project, "dice", "variants:\n  sms: {body: \"{{ [1, 2, 3] | random }} {{ x }}\"}\n")
    write_template(project, "filler", "variants:\n  sms: {body: \"{{ lipsum(1) }}\"}\n")
    write_template(project, "plain", "variants:\n  sms: {body: \"{{ x }}\"}\n")
    store = TemplateStore(project / "activation" / "templates")
    for name in ("dice", "filler", "plain"):
        parts = store.load(name).variants.sms
        store.render(name, "sms", {"x": "a"})
        assert (store._memo_key(name, "sms", parts, {"x": "a"}) is None) == (name != "plain")


def test_rows_of_matches_to_pylist():
    import datetime as dt

    import pyarrow as pa

    from activation.reader import rows_of

    stamps = [dt.datetime(2026, 1, 1, 8), None, dt.datetime(2026, 1, 1, 8), dt.datetime(2030, 5, 6, 7, 8, 9, 10)]
    batch = pa.RecordBatch.from_pydict({
        "message_id": ["a", "b", None, "d"],
        "not_before": pa.array(stamps, pa.timestamp("us")),
        "not_after": pa.array(stamps[::-1], pa.timestamp("us", tz="UTC")),
        "run_date": pa.array([dt.date(2026, 1, 1), dt.date(2026, 1, 2), None, dt.date(2026, 1, 1)], pa.date32()),
        "attempts": [1, None, 3, 4],
    })
    assert rows_of(batch) == batch.to_pylist()


_LOCAL_CHARS = "abcXYZ019.!#$%&'*+/=?^_`{|}~-\"(),:;<>@[\\] é"
_DOMAINS = ["example.com", "x-y.co", "a.b.c.org", "x.test", "x.invalid", "localhost", "x", "-x.com", "x-.com",
            "x.c1", "1.com", "xn--80ak6aa92e.com", "bücher.de", "[1.2.3.4]", "x..com", "", "x.example"]


@settings(max_examples=400, deadline=None)
@given(local=st.text(_LOCAL_CHARS, max_size=70), domain=st.sampled_from(_DOMAINS))
def test_email_fast_path_agrees_with_email_validator(local, domain):
    from email_validator import EmailNotValidError, validate_email

    address = f"{local}@{domain}"
    try:
        validate_email(address, check_deliverability=False)
        valid = True
    except EmailNotValidError:
        valid = False
    try:
        check_address("email", address)
        ok = True
    except InvalidAddress:
        ok = False
    assert ok == valid
