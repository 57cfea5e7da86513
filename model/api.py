"""The HTTP API and page of `arabic-topics serve` (FastAPI): /predict, /health, /stats, the page at /.

    app = create_app(TopicClassifier.from_pretrained(path), name=str(path))

Every error answers one line of JSON, {"error": why}: 400 for a body that is not JSON, 413 for a body over
`Limits.max_body` bytes, 422 for JSON that is not a request (no `texts`, an item that is not a string, too
many texts, titles not one per text), 503 when the queue is full, 500 when the model itself fails (logged
with its traceback; other requests go on). The body is parsed by pydantic straight from its bytes
(model_validate_json): one pass, whatever Content-Type a client sends (`curl -d` sends a form type).
"""
from __future__ import annotations

import asyncio
import json
import logging
from contextlib import asynccontextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi_offline import FastAPIOffline
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr, ValidationError, model_validator
from starlette.exceptions import HTTPException

from .batching import Busy, DynamicBatcher
from .classifier import TopicClassifier
from .errors import UserError
from .limits import Limits

STATIC = Path(__file__).parent / "static"  # the page and its script and style: package data, no CDN
log = logging.getLogger("arabic_topics.serve")


def request_model(limits: Limits) -> type[BaseModel]:
    """The /predict body, its text limit in the schema (so /docs shows it)."""

    class PredictRequest(BaseModel):
        model_config = ConfigDict(extra="forbid")
        texts: list[StrictStr] = Field(min_length=1, max_length=limits.max_texts,
                                       description="article bodies, one string each")
        titles: list[StrictStr | None] | None = Field(None, description="one title (or null) per text")
        explain: StrictBool = Field(False, description=f"add each label's sentences (at most "
                                                       f"{limits.max_explain_texts} texts)")

        @model_validator(mode="after")
        def _paired(self):
            if self.titles is not None and len(self.titles) != len(self.texts):
                raise ValueError(f"{len(self.titles)} titles for {len(self.texts)} texts; give one title (or null) "
                                 "per text")
            if self.explain and len(self.texts) > limits.max_explain_texts:
                raise ValueError(f"explain takes at most {limits.max_explain_texts} texts per request (got "
                                 f"{len(self.texts)})")
            return self

    return PredictRequest


class PredictResponse(BaseModel):
    predictions: list[dict[str, Any]] = Field(description="TopicClassifier.predict's dict per text, in order: "
                                              "label, score, labels, scores, warnings (or error); with explain, "
                                              "also explanations and note")


def error(status: int, message: str, headers: dict | None = None) -> Response:
    return Response(json.dumps({"error": message}, ensure_ascii=False), status, headers,
                    media_type="application/json")


def validation_message(exc: ValidationError, limits: Limits) -> tuple[int, str]:
    """(status, one line) for a body pydantic refused."""
    problems = exc.errors(include_url=False)
    first = next((p for p in problems if p["type"] == "json_invalid"), problems[0])
    kind, where = first["type"], _where(first["loc"])
    more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
    if kind == "json_invalid":
        return 400, f"the body is not JSON: {first['ctx']['error']}"
    if kind == "model_type":
        return 422, 'the body must be a JSON object: {"texts": ["..."], "titles": ["..."], "explain": false}'
    if kind == "missing":
        unknown = [_where(p["loc"]) for p in problems if p["type"] == "extra_forbidden"]
        hint = f" (unknown field(s) {', '.join(unknown)}: the fields are texts, titles, explain)" if unknown else more
        return 422, f"{where} is required: a list of article strings{hint}"
    if kind == "too_long" and where == "texts":
        return 422, (f"at most {limits.max_texts} texts per request (got {first['ctx']['actual_length']}): "
                     "send them in several requests")
    if kind == "extra_forbidden":
        return 422, f"unknown field {where!r} (the fields are texts, titles, explain){more}"
    if kind == "list_type":
        return 422, f"{where}: a list is needed, not {type(first['input']).__name__}{more}"
    if kind == "string_type":
        return 422, f"{where}: {type(first['input']).__name__}, not a string{more}"
    message = first["msg"].removeprefix("Value error, ")
    return 422, (f"{where}: {message}" if where else message) + more


def _where(loc: tuple) -> str:
    return "".join(f"[{part}]" if isinstance(part, int) else (f".{part}" if i else part)
                   for i, part in enumerate(loc))


class BodyLimit:
    """ASGI middleware: a request body over `limit` bytes is answered 413 before the app sees it, whether the
    client announced its length (Content-Length) or streams it in chunks."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            return await self._refuse(scope, receive, send, declared.isdigit())
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.limit:
                return await self._refuse(scope, receive, send, True)
            if not message.get("more_body"):
                break
        body, replayed = b"".join(chunks), False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope, receive, send, too_large: bool):
        response = (error(413, f"the body is over the limit of {self.limit} bytes: send fewer or shorter texts",
                          {"connection": "close"}) if too_large
                    else error(400, "Content-Length is not a number", {"connection": "close"}))
        await response(scope, receive, send)


def create_app(classifier: TopicClassifier, name: str, limits: Limits | None = None) -> FastAPI:
    """The app around one loaded classifier; its batching worker runs while the app is served (lifespan)."""
    limits = (limits or Limits()).check()
    batcher = DynamicBatcher(classifier, limits.max_batch, limits.max_wait_ms / 1000, limits.max_queue)
    PredictRequest = request_model(limits)

    @asynccontextmanager
    async def lifespan(app):
        batcher.start()
        yield
        await asyncio.to_thread(batcher.close)

    # FastAPI's own /docs and /redoc pages, with their scripts served by the package (fastapi-offline), not a CDN
    app = FastAPIOffline(title="arabic-news-topics", version="1", lifespan=lifespan,
                         description="Arabic news topic classification: TopicClassifier.predict over HTTP. "
                         "Requests that arrive together share a forward pass (dynamic batching).")
    app.state.batcher = batcher
    health = {"status": "ok", "model": name, "labels": classifier.labels, "backend": classifier.backend,
              "multi_label": classifier.settings.multi_label, "display_names": classifier.settings.display_names,
              "limits": asdict(limits)}

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):  # 404, 405: the same one-line shape
        return error(exc.status_code, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def server_error(request: Request, exc: Exception):
        log.exception("unexpected error on %s", request.url.path)
        return error(500, f"internal error ({exc.__class__.__name__})")

    @app.get("/health", summary="the model served, its labels and backend, the limits and batching counters")
    async def get_health() -> dict:
        return {**health, "batching": batcher.stats.snapshot()}

    @app.get("/stats", summary="batching counters: passes run and the requests and texts each carried")
    async def get_stats() -> dict:
        return batcher.stats.snapshot()

    @app.post("/predict", response_model=PredictResponse, summary="classify texts (TopicClassifier.predict)",
              responses={400: {"description": "not JSON"}, 413: {"description": "body too large"},
                         422: {"description": "not a valid request"}, 500: {"description": "the model failed"},
                         503: {"description": "queue full"}},
              openapi_extra={"requestBody": {"required": True, "content": {
                  "application/json": {"schema": PredictRequest.model_json_schema()}}}})
    async def post_predict(request: Request):
        batcher.incoming += 1  # a pass being gathered now waits for this request (model/batching.py)
        try:
            body = PredictRequest.model_validate_json(await request.body())
            job = batcher.submit(body.texts, body.titles, body.explain)
        except ValidationError as exc:
            return error(*validation_message(exc, limits))
        except Busy as exc:
            return error(503, str(exc), {"retry-after": "1"})
        finally:
            batcher.incoming -= 1
        try:
            predictions = await asyncio.wrap_future(job)
        except UserError as exc:  # the model refused the request as a whole
            return error(422, str(exc))
        except Exception as exc:  # the model broke on this request; the worker and other requests go on
            log.error("predict failed on a request of %d text(s)", len(body.texts), exc_info=exc)
            first = (str(exc).strip().splitlines() or [""])[0][:200]
            return error(500, f"the model failed on this request ({exc.__class__.__name__}: {first})")
        # predict's dicts as they are: no response-model filtering, and Arabic kept readable
        return Response(json.dumps({"predictions": predictions}, ensure_ascii=False), media_type="application/json")

    @app.get("/", include_in_schema=False)
    async def page():
        return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(BodyLimit, limit=limits.max_body)
    return app
