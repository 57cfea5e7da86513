"""`arabic-topics serve`: the HTTP API answers exactly what predict() returns, refuses bad requests in one line of
JSON and lives on, survives a request that breaks the model, batches concurrent requests, and its page works in
a real headless browser. Every server here is a real uvicorn server on a free port of 127.0.0.1, around a tiny
model trained in the session (tests/conftest.py); nothing under test is mocked."""
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import uvicorn

from model import TopicClassifier
from model.api import STATIC, create_app
from model.serve import Limits, bind
from training.corpus import article_files, parse_ant_file

from .conftest import DATA

ARTICLES = [parse_ant_file(path) for path in article_files(DATA / "ant")]
LIMITS = Limits(max_texts=8, max_explain_texts=2, max_body=64 * 1024, max_wait_ms=20)
TIMEOUT = 60  # seconds any one request may take


class Running:
    """A real uvicorn server for `app`, in a thread, on a free port of 127.0.0.1; close() stops it."""

    def __init__(self, app):
        sock = bind("127.0.0.1", 0)
        self.port = sock.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]}, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert self.thread.is_alive() and time.monotonic() < deadline, "the server did not start"
            time.sleep(0.02)

    def request(self, method: str, path: str, body=None, headers=None) -> tuple[int, dict, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT)
        try:
            connection.request(method, path, body, headers or {})
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()

    def post(self, payload) -> tuple[int, dict]:
        body = payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()
        status, _, data = self.request("POST", "/predict", body, {"Content-Type": "application/json"})
        return status, json.loads(data)

    def close(self):
        self.server.should_exit = True
        self.thread.join(30)
        assert not self.thread.is_alive()


@pytest.fixture(scope="module")
def clf(trained):
    return TopicClassifier.from_pretrained(trained)


@pytest.fixture(scope="module")
def served(trained):
    running = Running(create_app(TopicClassifier.from_pretrained(trained), "tiny", LIMITS))
    yield running
    running.close()


# ---------------------------------------------------------------------------------------------- the API
def test_health_names_the_model_labels_and_backend(served, clf):
    status, headers, body = served.request("GET", "/health")
    health = json.loads(body)
    assert status == 200 and headers["content-type"] == "application/json"
    assert (health["model"], health["labels"], health["backend"]) == ("tiny", clf.labels, clf.backend)
    assert health["limits"]["max_texts"] == LIMITS.max_texts and "passes" in health["batching"]


def test_predictions_are_exactly_those_of_predict(served, clf):
    texts = [a["text"] for a in ARTICLES[:6]] + ["   "]  # a blank text: predict's own per-item error
    titles = [a["title"] for a in ARTICLES[:6]]
    titles[2] = None
    titles.append(None)
    status, body = served.post({"texts": texts, "titles": titles})
    assert status == 200 and set(body) == {"predictions"}
    assert body["predictions"] == clf.predict(texts, titles=titles)
    assert body["predictions"][-1] == {"error": "empty text"}
    status, body = served.post({"texts": texts[:3]})  # no titles
    assert status == 200 and body["predictions"] == clf.predict(texts[:3])


def test_explain_returns_the_sentences_explain_gives(served, clf):
    article = ARTICLES[0]
    status, body = served.post({"texts": [article["text"]], "titles": [article["title"]], "explain": True})
    assert status == 200
    assert body["predictions"] == [clf.explain(article["text"], article["title"])]
    assert body["predictions"][0]["explanations"]


TEXT = ARTICLES[0]["text"]
BAD_REQUESTS = {
    "not JSON": (b"texts=hello", 400, "the body is not JSON"),
    "empty body": (b"", 400, "the body is not JSON"),
    "not an object": (b'["a text"]', 422, "the body must be a JSON object"),
    "no texts": ({"titles": ["t"]}, 422, "texts is required"),
    "a misspelt field": ({"text": [TEXT]}, 422, "unknown field(s) text"),
    "a number among the texts": ({"texts": [TEXT, 42]}, 422, "texts[1]: int, not a string"),
    "a null text": ({"texts": [None]}, 422, "texts[0]: NoneType, not a string"),
    "texts a string": ({"texts": TEXT}, 422, "texts: a list is needed, not str"),
    "no text at all": ({"texts": []}, 422, "at least 1 item"),
    "too many texts": ({"texts": [TEXT] * (LIMITS.max_texts + 1)}, 422, "at most 8 texts per request (got 9)"),
    "titles not one per text": ({"texts": [TEXT, TEXT], "titles": ["t"]}, 422, "1 titles for 2 texts"),
    "explain of too many": ({"texts": [TEXT] * 3, "explain": True}, 422, "explain takes at most 2 texts"),
    "explain not a boolean": ({"texts": [TEXT], "explain": "yes"}, 422, "explain: Input should be a valid boolean"),
    "a body over the limit": ({"texts": ["خبر " * 20_000]}, 413, "over the limit of 65536 bytes"),
}


@pytest.mark.parametrize("case", BAD_REQUESTS, ids=list(BAD_REQUESTS))
def test_a_bad_request_gets_one_line_of_json_and_the_server_lives_on(served, clf, case):
    payload, expected_status, message = BAD_REQUESTS[case]
    body = payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()
    status, headers, data = served.request("POST", "/predict", body, {"Content-Type": "application/json"})
    assert status == expected_status, data
    assert headers["content-type"] == "application/json" and b"\n" not in data
    answer = json.loads(data)
    assert list(answer) == ["error"] and message in answer["error"], answer
    assert served.post({"texts": [TEXT]}) == (200, {"predictions": clf.predict([TEXT])})


def test_a_streamed_body_over_the_limit_gets_413_without_content_length(served):
    chunks = [b'{"texts": ["' + "خبر ".encode() * 8_000, "خبر ".encode() * 8_000 + b'"]}']  # 128 KB, no length
    connection = http.client.HTTPConnection("127.0.0.1", served.port, timeout=TIMEOUT)
    try:
        connection.request("POST", "/predict", iter(chunks), {"Content-Type": "application/json"}, encode_chunked=True)
        response = connection.getresponse()
        assert response.status == 413 and "over the limit" in json.loads(response.read())["error"]
    finally:
        connection.close()
    assert served.request("GET", "/health")[0] == 200


def test_unknown_paths_and_methods_answer_json(served):
    for method, path, status in (("GET", "/nowhere", 404), ("GET", "/predict", 405)):
        got, headers, data = served.request(method, path)
        assert got == status and list(json.loads(data)) == ["error"]


def test_openapi_docs_come_from_the_framework(served):
    status, _, data = served.request("GET", "/openapi.json")
    schema = json.loads(data)
    assert status == 200 and {"/predict", "/health", "/stats"} <= set(schema["paths"])
    body = schema["paths"]["/predict"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["properties"]["texts"]["maxItems"] == LIMITS.max_texts and body["required"] == ["texts"]
    status, _, page = served.request("GET", "/docs")
    assert status == 200 and b"swagger-ui-bundle.js" in page and b"https://" not in page  # its scripts are local


# ------------------------------------------------------------------------------ a request that breaks the model
@pytest.fixture(scope="module")
def breakable(trained, tmp_path_factory):
    """The tiny model told to read 512-token windows: its encoder has position embeddings for 128 tokens, so
    an article longer than that fails inside the forward pass (a RuntimeError in torch), a short one works."""
    path = tmp_path_factory.mktemp("breakable") / "model"
    shutil.copytree(trained, path)
    settings = json.loads((path / "topic_config.json").read_text())
    (path / "topic_config.json").write_text(json.dumps({**settings, "max_length": 512}))
    return TopicClassifier.from_pretrained(path)


def test_a_request_that_fails_inside_the_model_gets_500_and_takes_no_other_request_down(breakable):
    long_text = " ".join(a["text"] for a in ARTICLES[:4])
    short = ["أعلنت وزارة الاقتصاد عن خطة جديدة لدعم الصادرات", "فاز المنتخب الوطني بالمباراة النهائية"]
    with pytest.raises(RuntimeError):  # the failure is real: in-process predict breaks on it too
        breakable.predict([long_text])
    expected = [breakable.predict([text]) for text in short]
    running = Running(create_app(breakable, "breakable", LIMITS))
    try:
        answers = {}

        def send(name, texts):
            answers[name] = running.post({"texts": texts})

        # sent together, so the failing request shares a pass with the good ones
        threads = [threading.Thread(target=send, args=("long", [long_text]))]
        threads += [threading.Thread(target=send, args=(i, [text])) for i, text in enumerate(short)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(TIMEOUT)
        status, body = answers["long"]
        assert status == 500 and list(body) == ["error"] and "RuntimeError" in body["error"]
        assert "\n" not in body["error"]
        for i, text in enumerate(short):
            assert answers[i][0] == 200 and same(answers[i][1]["predictions"], expected[i])
        status, body = running.post({"texts": short[:1]})  # and after it
        assert status == 200 and same(body["predictions"], expected[0])
        stats = json.loads(running.request("GET", "/stats")[2])
        assert stats["failed_requests"] == 1
    finally:
        running.close()


def same(got: list[dict], expected: list[dict]) -> bool:
    """predict's results up to float noise: texts batched with others are padded differently (see
    docs/serving.md), so the last of the 6 decimals may differ."""
    return len(got) == len(expected) and all(
        g["labels"] == e["labels"] and g["scores"] == pytest.approx(e["scores"], abs=1e-4)
        for g, e in zip(got, expected))


# ----------------------------------------------------------------------------------------------- under load
def test_concurrent_requests_are_batched_and_none_fails(trained, clf):
    """48 clients x 3 requests of one article each, sent together: bounded in count and time, loopback only."""
    clients, rounds = 48, 3
    running = Running(create_app(TopicClassifier.from_pretrained(trained), "tiny", LIMITS))
    results, failures = {}, []
    start = threading.Barrier(clients)

    def client(k):
        connection = http.client.HTTPConnection("127.0.0.1", running.port, timeout=TIMEOUT)
        start.wait(TIMEOUT)
        try:
            for r in range(rounds):
                article = ARTICLES[(k * rounds + r) % len(ARTICLES)]
                body = json.dumps({"texts": [article["text"]], "titles": [article["title"]]}).encode()
                connection.request("POST", "/predict", body, {"Content-Type": "application/json"})
                response = connection.getresponse()
                data = response.read()
                if response.status != 200:
                    failures.append((response.status, data))
                else:
                    results[k, r] = (article, json.loads(data)["predictions"][0])
        except Exception as exc:  # any transport error is a failure of the test, reported below
            failures.append(repr(exc))
        finally:
            connection.close()

    began = time.monotonic()
    try:
        threads = [threading.Thread(target=client, args=(k,), daemon=True) for k in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(max(1.0, began + 120 - time.monotonic()))
        assert not any(thread.is_alive() for thread in threads), "clients still running after 120 s"
        stats = json.loads(running.request("GET", "/stats")[2])
    finally:
        running.close()
    assert not failures, failures[:3]
    assert len(results) == clients * rounds
    assert stats["requests"] == clients * rounds and stats["failed_requests"] == 0
    assert stats["max_requests_per_pass"] > 1, stats  # batches formed: requests shared forward passes
    assert stats["passes"] < clients * rounds
    for article, got in results.values():  # each as predict gives it alone, up to float noise of padding
        assert same([got], clf.predict([article["text"]], titles=[article["title"]]))


# ------------------------------------------------------------------------------------------------ the command
def serve_process(*options) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "arabic_topics", "serve", *options], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})


def test_the_command_prints_its_address_serves_and_stops_on_ctrl_c(trained):
    process = serve_process("--model", str(trained), "--port", "0")
    try:
        line = process.stdout.readline().strip()
        assert line.startswith(f"serving {trained}") and " at http://127.0.0.1:" in line, process.stderr.read()
        port = int(line.rsplit(":", 1)[1])
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
        connection.request("GET", "/health")
        assert json.loads(connection.getresponse().read())["model"] == str(trained)
        connection.close()
        process.send_signal(signal.SIGINT)
        assert process.wait(30) == 0
    finally:
        process.kill()
        process.wait()


def test_the_command_reports_a_bad_model_or_a_busy_port_in_one_line(trained, tmp_path):
    for options, message in ((["--port", "0"], "is not a topic model directory"), (["--port", "-1"], "not a port"),
                             (["--max-batch", "0"], "--max-batch must be at least 1")):
        done = serve_process("--model", str(tmp_path), *options)
        out, err = done.communicate(timeout=120)
        assert done.returncode == 2 and message in err and "Traceback" not in err, err
        assert len(err.strip().splitlines()) == 1
    taken = bind("127.0.0.1", 0)
    try:
        taken.listen()
        done = serve_process("--model", str(trained), "--port", str(taken.getsockname()[1]))
        out, err = done.communicate(timeout=120)
        assert done.returncode == 2 and "cannot listen on 127.0.0.1:" in err and "Traceback" not in err, err
    finally:
        taken.close()


def test_the_serve_benchmark_measures_each_level_against_in_process_predict(trained, capsys):
    from eval.serve_benchmark import benchmark, print_table

    result = benchmark(str(DATA / "ant"), str(trained), n=6, clients=[1, 3], requests=6)
    names = [row["name"] for row in result["rows"]]
    assert names == ["in-process predict, batched (32)", "in-process predict, one text per call", "server, 1 client",
                     "server, 3 clients"]
    assert all(row["docs_per_s"] > 0 for row in result["rows"]) and result["rows"][0]["vs_in_process_batched"] == 1
    assert result["rows"][2]["latency_p99_ms"] >= result["rows"][2]["latency_p50_ms"] > 0
    assert 0 <= result["label_agreement_with_in_process"] <= 1 and result["documents"] == 6
    print_table(result)
    assert "server, 3 clients" in capsys.readouterr().out


# ---------------------------------------------------------------------------------------------------- the page
def test_the_page_and_its_files_are_served_by_the_package(served):
    status, headers, page = served.request("GET", "/")
    assert status == 200 and headers["content-type"].startswith("text/html")
    html = page.decode()
    assert 'dir="rtl" lang="ar"' in html and 'id="text"' in html
    for name in ("app.js", "style.css"):
        got, _, data = served.request("GET", f"/static/{name}")
        assert got == 200 and data == (STATIC / name).read_bytes()
    for path in STATIC.iterdir():  # offline: nothing fetched from elsewhere
        text = path.read_text(encoding="utf-8")
        assert "http://" not in text and "https://" not in text and "//cdn" not in text, path


CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
BROWSER_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1200,1800", "--lang=en-US"]


def browser():
    """Debian's chromium under its own chromedriver; without them the test skips (fails in CI, which installs
    them: README's install command)."""
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not Path(path).exists()]
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        missing.append("selenium (the test extra)")
    if missing:
        why = f"no browser here ({', '.join(missing)} missing): apt-get install -y chromium chromium-driver"
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the page test: {why}")
        pytest.skip(why)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in BROWSER_FLAGS:
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def test_the_page_in_a_real_browser_shows_every_label_and_the_sentences_behind_them(served, clf, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    seed = next(a for a in ARTICLES if a["label"] == "middleEast")  # a real article of tests/data (ANT)
    expected = clf.explain(seed["text"], seed["title"])
    driver = browser()
    try:
        driver.get(f"http://127.0.0.1:{served.port}/")
        wait = WebDriverWait(driver, TIMEOUT)
        wait.until(lambda d: "model tiny" in d.find_element(By.ID, "model").text)
        article = driver.find_element(By.ID, "text")
        assert (article.get_attribute("dir"), article.get_attribute("lang")) == ("rtl", "ar")
        assert driver.execute_script("return getComputedStyle(arguments[0]).direction", article) == "rtl"
        driver.find_element(By.ID, "title").send_keys(seed["title"])  # typed
        driver.execute_script("arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('input'))",
                              article, seed["text"])  # pasted
        driver.find_element(By.ID, "why").click()
        driver.find_element(By.ID, "classify").click()
        wait.until(lambda d: d.find_element(By.ID, "why-view").is_displayed())

        rows = driver.find_elements(By.CSS_SELECTOR, "#bars .bar-row")
        assert sorted(row.get_attribute("data-label") for row in rows) == sorted(clf.labels)
        for row in rows:  # every label with its score, as a bar as wide as its probability
            label = row.get_attribute("data-label")
            assert row.find_element(By.CSS_SELECTOR, ".score").text == f"{expected['scores'][label]:.3f}"
            width = driver.execute_script("return arguments[0].style.width", row.find_element(By.CSS_SELECTOR, ".fill"))
            assert float(width.rstrip("%")) == pytest.approx(100 * expected["scores"][label], abs=0.06)
        assert expected["label"] in driver.find_element(By.ID, "topic").text

        first = next(iter(expected["explanations"]))
        marked = [m.get_attribute("textContent") for m in driver.find_elements(By.CSS_SELECTOR, "#article mark")]
        assert marked and set(marked) == {s["sentence"] for s in expected["explanations"][first]}
        assert driver.find_element(By.ID, "article").get_attribute("dir") == "rtl"
        driver.save_screenshot(str(tmp_path / "page.png"))
        assert (tmp_path / "page.png").stat().st_size > 10_000

        driver.get(f"http://127.0.0.1:{served.port}/docs")  # the framework's API docs render offline too
        wait.until(lambda d: "/predict" in [e.text for e in d.find_elements(By.CSS_SELECTOR, ".opblock-summary-path")])
    finally:
        driver.quit()
