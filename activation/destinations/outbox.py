"""`outbox`: one file per message under `<dir>/<channel>/`, written atomically, deduplicated.

The embedded default: emails become `.eml` files, SMS and store messages `.json`.
A message whose file already exists is not written again, so re-sending after a crash
is safe (the destination deduplicates).
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from activation.destinations.base import SENT, Destination, Message, Result
from activation.destinations.email_message import EmailHeaderSettings, build_email, unsubscribe_links


class OutboxSettings(EmailHeaderSettings):
    dir: Path = Path("target") / "outbox"
    fsync: bool = False  # survive power loss, not just a crash of this process


class OutboxDestination(Destination):
    type_name = "outbox"
    channels = frozenset({"email", "sms", "store"})
    deduplicates = True
    Settings = OutboxSettings
    default_batch_size = 500

    def __init__(self, name, settings: OutboxSettings, context):
        super().__init__(name, settings, context)
        root = settings.dir if settings.dir.is_absolute() else context.project_dir / settings.dir
        self.root = root
        self._made: set[str] = set()

    def check(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)

    def template_context(self, message: Message) -> dict:
        return unsubscribe_links(self.settings, message) if message.channel == "email" else {}

    def path_for(self, message: Message) -> Path:
        suffix = ".eml" if message.channel == "email" else ".json"
        return self.root / message.channel / f"{message.message_id}{suffix}"

    def send(self, batch: list[Message]) -> list[Result]:
        results = []
        for message in batch:
            path = self.path_for(message)
            if message.channel not in self._made:
                path.parent.mkdir(parents=True, exist_ok=True)
                self._made.add(message.channel)
            if not path.exists():
                self.context.limiter.acquire()
                self._write_atomically(path, self._render(message))
            results.append(Result(message.message_id, SENT, provider_message_id=path.name))
        return results

    def _render(self, message: Message) -> bytes:
        if message.channel == "email":
            return build_email(self.settings, message)
        document = {
            "message_id": message.message_id,
            "play_id": message.play_id,
            "profile_id": message.profile_id,
            "channel": message.channel,
            "to": message.address,
            "template": message.template,
            "content": message.content,
        }
        return json.dumps(document, ensure_ascii=False, sort_keys=True, indent=1).encode("utf-8")

    def _write_atomically(self, path: Path, data: bytes) -> None:
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        with open(tmp, "wb") as handle:
            handle.write(data)
            if self.settings.fsync:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp, path)
