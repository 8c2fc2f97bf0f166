"""The demo chat page in a real headless Chromium: a first chat with the bot, and the coach view.

The servers (sandbox, bot) run on an asyncio loop in a background thread, because selenium blocks.
"""

from __future__ import annotations

import asyncio
import struct
import threading
import time
import zlib
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pytest
from selenium import webdriver
from selenium.common.exceptions import (
    StaleElementReferenceException,
    TimeoutException,
    WebDriverException,
)
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import Select, WebDriverWait
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update

from sandbox import Sandbox

if TYPE_CHECKING:
    from bot.cli.demo import Demo

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
# No network here: these flags stop Chromium from phoning home (updates, sync, safe browsing).
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-default-apps",
    "--disable-extensions",
    "--window-size=1280,860",
)
WAIT_SECONDS = 20.0

T = TypeVar("T")


# ------------------------------------------------------------------------------ plumbing


class LoopThread:
    """An asyncio loop in a background thread, so the servers run while selenium blocks."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="demo-loop", daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        """Run a coroutine on the loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        """Cancel what is still running (long-polls), then stop the loop and its thread."""

        async def cancel_rest() -> None:
            rest = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in rest:
                task.cancel()
            await asyncio.gather(*rest, return_exceptions=True)
            await asyncio.get_running_loop().shutdown_asyncgens()

        self.run(cancel_rest())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


class BotSide:
    """The bot's end of a bare sandbox: a python-telegram-bot Bot plus an update reader."""

    def __init__(self, loop: LoopThread, sandbox: Sandbox) -> None:
        self.loop = loop
        self.bot = Bot(
            sandbox.token, base_url=sandbox.base_url, base_file_url=sandbox.base_file_url
        )
        loop.run(self.bot.initialize())
        self.offset = 0

    def call(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run one Bot call on the servers' loop."""
        return self.loop.run(coro)

    def next_update(self, wanted: Callable[[Update], bool], what: str) -> Update:
        """Read updates until one matches; fail after WAIT_SECONDS."""
        deadline = time.monotonic() + WAIT_SECONDS
        seen: list[str] = []
        while time.monotonic() < deadline:
            updates = self.call(self.bot.get_updates(offset=self.offset, timeout=2))
            for update in updates:
                self.offset = update.update_id + 1
                if wanted(update):
                    return update
                seen.append(str(update.to_dict()))
        raise AssertionError(f"the bot never got {what}; it got: {seen}")

    def close(self) -> None:
        """Shut the Bot's HTTP client."""
        self.loop.run(self.bot.shutdown())


def png(width: int, height: int) -> bytes:
    """A small valid PNG in one calm colour."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + bytes((47, 127, 143)) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


def hook(name: str) -> str:
    """CSS selector for a data-testid hook."""
    return f'[data-testid="{name}"]'


_SNAPSHOT_JS = """
return [...document.querySelectorAll('[data-testid="message"]')].map((m) => ({
  id: Number(m.dataset.messageId),
  bot: m.dataset.fromBot === "true",
  service: m.dataset.service === "true",
  text: (m.querySelector('[data-testid="message-text"]') || {}).textContent || "",
  caption: (m.querySelector('[data-testid="message-caption"]') || {}).textContent || "",
  media: (m.querySelector('[data-testid="message-media"]') || {}).textContent || "",
  all: m.textContent,
  buttons: [...m.querySelectorAll('[data-testid="inline-button"]')].map((b) => b.textContent),
}));
"""


class ChatPage:
    """The demo page, driven through its data-testid hooks."""

    def __init__(self, driver: WebDriver, url: str) -> None:
        self.driver = driver
        self.url = url

    def until(self, condition: Callable[[WebDriver], T], what: str) -> T:
        """Wait for a condition, failing with a readable message."""
        try:
            return WebDriverWait(
                self.driver, WAIT_SECONDS, ignored_exceptions=(StaleElementReferenceException,)
            ).until(condition)
        except TimeoutException:
            raise AssertionError(
                f"timed out waiting for {what}; messages now: {self.messages()}"
            ) from None

    def click(self, find: Callable[[WebDriver], WebElement | None], what: str) -> None:
        """Find and click in one retried step: live updates re-draw the sidebar and bubbles."""

        def attempt(driver: WebDriver) -> bool:
            target = find(driver)
            if target is None:
                return False
            target.click()
            return True

        self.until(attempt, what)

    def el(self, name: str) -> WebElement:
        """The element with this data-testid."""
        return self.driver.find_element(By.CSS_SELECTOR, hook(name))

    def open(self) -> None:
        """Load the page and wait until it knows the bot."""
        self.driver.get(self.url)
        self.until(lambda d: "@" in self.el("bot-name").text, "the bot's name in the header")

    def create_client(self, name: str) -> int:
        """Create a simulated client through the form; return their user id."""
        field = self.el("new-person-name")
        field.clear()
        field.send_keys(name)
        self.el("new-person-submit").click()
        self.until(lambda d: self.el("message-input").is_enabled(), "the chat to open")
        picker = Select(self.el("person-picker"))
        assert picker.first_selected_option.text == name
        return int(picker.first_selected_option.get_attribute("value") or "0")

    def choose_person(self, user_id: int) -> None:
        """Switch to another person with the picker."""
        self.until(
            lambda d: d.find_elements(
                By.CSS_SELECTOR, f'{hook("person-picker")} option[value="{user_id}"]'
            ),
            f"person {user_id} in the picker",
        )
        Select(self.el("person-picker")).select_by_value(str(user_id))

    def send(self, text: str) -> None:
        """Type a message and press Enter."""
        box = self.el("message-input")
        box.send_keys(text)
        box.send_keys("\n")

    def messages(self) -> list[dict[str, Any]]:
        """What the open chat shows, message by message."""
        try:
            return list(self.driver.execute_script(_SNAPSHOT_JS))
        except WebDriverException:
            return []

    def wait_message(self, wanted: Callable[[dict[str, Any]], bool], what: str) -> dict[str, Any]:
        """Wait until a message matching `wanted` is shown; return its snapshot."""

        def found(_: WebDriver) -> dict[str, Any] | None:
            return next((m for m in self.messages() if wanted(m)), None)

        return self.until(found, what)

    def message(self, message_id: int) -> WebElement:
        """The <li> of one message."""
        return self.driver.find_element(
            By.CSS_SELECTOR, f'{hook("message")}[data-message-id="{message_id}"]'
        )

    def press(self, message_id: int, label_part: str) -> None:
        """Click the inline button under a message whose text contains label_part."""

        def click(_: WebDriver) -> bool:
            for button in self.message(message_id).find_elements(
                By.CSS_SELECTOR, hook("inline-button")
            ):
                if label_part.lower() in button.text.lower() and button.is_enabled():
                    button.click()
                    return True
            return False

        self.until(click, f"button '{label_part}' under message {message_id}")

    def toast(self, text: str) -> None:
        """Wait for a toast with this text."""
        self.until(
            lambda d: any(text in t.text for t in d.find_elements(By.CSS_SELECTOR, hook("toast"))),
            f"a toast saying {text!r}",
        )

    def script_errors(self) -> list[str]:
        """Uncaught JavaScript errors the page logged."""
        return [
            entry["message"]
            for entry in self.driver.get_log("browser")
            if entry.get("source") == "javascript"
        ]

    def screenshot(self, path: Path) -> None:
        """Save what the page looks like now."""
        assert self.driver.save_screenshot(str(path)), f"no screenshot written to {path}"


# ------------------------------------------------------------------------------ fixtures


@pytest.fixture
def loop() -> Iterator[LoopThread]:
    """A background event loop for the servers."""
    thread = LoopThread()
    yield thread
    thread.close()


@pytest.fixture
def sandbox(loop: LoopThread) -> Iterator[Sandbox]:
    """A bare local Telegram, without the bot."""
    sb = Sandbox()
    loop.run(sb.start())
    yield sb
    loop.run(sb.stop())


@pytest.fixture
def bot_side(loop: LoopThread, sandbox: Sandbox) -> Iterator[BotSide]:
    """A python-telegram-bot Bot talking to the bare sandbox, standing in for our bot."""
    side = BotSide(loop, sandbox)
    yield side
    side.close()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[WebDriver]:
    """Headless Debian Chromium with a fresh profile."""
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not Path(p).exists()]
    if missing:
        pytest.fail(
            f"{', '.join(missing)} not found: install Debian's chromium and chromium-driver "
            "(the README's test command does), or leave these tests out with -m 'not browser'"
        )
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'chromium-profile'}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def demo(loop: LoopThread, tmp_path: Path) -> Iterator[Demo]:
    """The real demo: the sandbox with a coach and a coach group, and the real bot."""
    # Imported here so the page's own tests below run even while the bot does not import.
    from bot.cli.demo import Demo

    running = Demo(tmp_path / "demo.sqlite3", typing_pauses=False)
    loop.run(running.start(), timeout=60)
    yield running
    loop.run(running.stop(), timeout=60)


# ------------------------------------------------------------------------------ the real demo


def walk_to_button(page: ChatPage, label_part: str, max_steps: int = 8) -> dict[str, Any]:
    """Press the first button of the newest keyboard until a button containing label_part shows.

    The onboarding asks a few harmless questions before consent; which ones is content, so the
    test does not hard-code them.
    """
    pressed: set[int] = set()
    for _ in range(max_steps):
        shown = page.messages()
        target = next(
            (m for m in shown if any(label_part in b.lower() for b in m["buttons"])), None
        )
        if target is not None:
            return target
        keyboards = [m for m in shown if m["bot"] and m["buttons"] and m["id"] not in pressed]
        if not keyboards:
            page.wait_message(
                lambda m: m["bot"] and bool(m["buttons"]) and m["id"] not in pressed,
                "a message with buttons",
            )
            continue
        newest = max(keyboards, key=lambda m: m["id"])
        pressed.add(newest["id"])
        page.press(newest["id"], newest["buttons"][0])
        page.wait_message(
            lambda m, after=newest["id"]: m["bot"] and m["id"] > after,
            f"the bot's answer to {newest['buttons'][0]!r}",
        )
    raise AssertionError(f"no button with {label_part!r} after {max_steps} presses")


def test_demo_newcomer_starts_consents_and_coach_sees_group(
    demo: Demo, browser: WebDriver, tmp_path: Path
) -> None:
    """Open the demo page, create a client, /start, consent; the coach sees the coach group."""
    page = ChatPage(browser, demo.url)
    page.open()
    page.create_client("Sanne")

    page.send("/start")
    page.wait_message(lambda m: not m["bot"] and m["text"] == "/start", "/start in the chat")
    page.wait_message(lambda m: m["bot"] and "welkom" in m["all"].lower(), "the bot's welcome")

    consent = walk_to_button(page, "akkoord")
    page.press(consent["id"], "akkoord")
    after = page.wait_message(
        lambda m: m["bot"] and m["id"] > consent["id"], "the bot's messages after consent"
    )
    assert after["text"] or after["caption"], after
    page.screenshot(tmp_path / "demo-client.png")

    coach_id = demo.sandbox.info["coaches"][0]
    page.choose_person(coach_id)
    page.until(
        lambda d: d.find_elements(
            By.CSS_SELECTOR, f'{hook("chat-item")}[data-chat-type="supergroup"]'
        ),
        "the coach group in the coach's chat list",
    )
    topics = page.until(
        lambda d: d.find_elements(By.CSS_SELECTOR, hook("topic-item")), "the group's topics"
    )
    assert topics[0].text.startswith("#") or "Algemeen" in topics[0].text
    page.screenshot(tmp_path / "demo-coach.png")
    assert page.script_errors() == []


# ------------------------------------------------------------------------------ the bare sandbox


def test_page_renders_what_a_bot_sends_and_sends_what_a_person_does(
    sandbox: Sandbox, bot_side: BotSide, browser: WebDriver, tmp_path: Path
) -> None:
    """Formatting, buttons and callback answers, edits, deletes, photos, documents, samples."""
    page = ChatPage(browser, sandbox.url)
    page.open()
    user_id = page.create_client("Sanne")

    page.send("/start")
    page.wait_message(lambda m: not m["bot"] and m["text"] == "/start", "/start in the chat")
    update = bot_side.next_update(
        lambda u: u.message is not None and u.message.text == "/start", "/start"
    )
    assert update.message is not None and update.message.from_user is not None
    assert update.message.from_user.id == user_id
    chat_id = update.message.chat.id

    keyboard = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("Ik ga akkoord", callback_data="consent:yes")],
            [
                InlineKeyboardButton("Liever niet", callback_data="consent:no"),
                InlineKeyboardButton("Privacy", url="https://example.org/privacy"),
            ],
        ]
    )
    welcome = bot_side.call(
        bot_side.bot.send_message(
            chat_id,
            # The emoji takes two UTF-16 units: entity offsets after it must still land right.
            "👋 <b>Welkom</b>, <i>fijn</i> dat je er bent. <tg-spoiler>geheim</tg-spoiler> "
            '<code>/hulp</code> <a href="https://example.org/lees">lees meer</a> '
            "&lt;b&gt;niet vet&lt;/b&gt; <b>heel <u>erg</u></b>"
            "<blockquote>een citaat</blockquote><pre>een blok</pre>",
            parse_mode="HTML",
            reply_markup=keyboard,
        )
    )
    page.wait_message(lambda m: m["id"] == welcome.message_id and m["bot"], "the welcome")
    bubble = page.message(welcome.message_id)
    text = bubble.find_element(By.CSS_SELECTOR, hook("message-text"))
    assert text.find_element(By.TAG_NAME, "strong").text == "Welkom"
    assert text.find_element(By.TAG_NAME, "em").text == "fijn"
    assert (
        text.find_element(By.CSS_SELECTOR, hook("spoiler")).get_attribute("textContent") == "geheim"
    )
    assert text.find_element(By.TAG_NAME, "code").text == "/hulp"
    link = text.find_element(By.TAG_NAME, "a")
    assert (link.text, link.get_attribute("href")) == ("lees meer", "https://example.org/lees")
    # Escaped markup stays text: never parsed as HTML by the page.
    assert "<b>niet vet</b>" in text.text
    assert len(text.find_elements(By.TAG_NAME, "b")) == 0
    assert [e.text for e in text.find_elements(By.TAG_NAME, "strong")] == ["Welkom", "heel erg"]
    assert text.find_element(By.CSS_SELECTOR, "strong u").text == "erg"
    assert text.find_element(By.TAG_NAME, "blockquote").text == "een citaat"
    assert text.find_element(By.TAG_NAME, "pre").text == "een blok"
    rows = bubble.find_elements(By.CSS_SELECTOR, ".inline-keyboard .kb-row")
    assert [len(r.find_elements(By.CSS_SELECTOR, hook("inline-button"))) for r in rows] == [1, 2]

    page.press(welcome.message_id, "akkoord")
    callback = bot_side.next_update(lambda u: u.callback_query is not None, "the button press")
    assert callback.callback_query is not None
    assert callback.callback_query.data == "consent:yes"
    assert callback.callback_query.from_user.id == user_id
    bot_side.call(bot_side.bot.answer_callback_query(callback.callback_query.id, text="Opgeslagen"))
    page.toast("Opgeslagen")

    # An edit changes the same bubble in place; the keyboard goes with it.
    count = len(page.messages())
    bot_side.call(
        bot_side.bot.edit_message_text(
            "Dank je, <s>oud</s> nieuw.", chat_id, welcome.message_id, parse_mode="HTML"
        )
    )
    edited = page.wait_message(
        lambda m: m["id"] == welcome.message_id and m["text"] == "Dank je, oud nieuw.",
        "the edited welcome",
    )
    assert edited["buttons"] == [] and "bewerkt" in edited["all"]
    assert len(page.messages()) == count
    assert page.message(welcome.message_id).find_element(By.TAG_NAME, "s").text == "oud"

    photo = bot_side.call(bot_side.bot.send_photo(chat_id, png(48, 32), caption="Je week"))
    page.wait_message(lambda m: m["id"] == photo.message_id and m["caption"] == "Je week", "photo")
    img = page.message(photo.message_id).find_element(By.CSS_SELECTOR, hook("message-photo"))
    largest = max(photo.photo, key=lambda p: p.width * p.height)
    assert (img.get_attribute("src") or "").endswith(f"/api/files/{largest.file_id}")
    page.until(lambda d: img.get_property("naturalWidth") == 48, "the photo to load")

    document = bot_side.call(
        bot_side.bot.send_document(chat_id, b"Je werkblad\n", filename="werkblad.txt")
    )
    page.wait_message(lambda m: m["id"] == document.message_id, "the document")
    doc_link = page.message(document.message_id).find_element(
        By.CSS_SELECTOR, hook("message-document")
    )
    assert doc_link.get_attribute("download") == "werkblad.txt"
    assert "werkblad.txt" in doc_link.text
    assert document.document is not None
    assert (doc_link.get_attribute("href") or "").endswith(
        f"/api/files/{document.document.file_id}"
    )

    gone = bot_side.call(bot_side.bot.send_message(chat_id, "Dit verdwijnt zo"))
    page.wait_message(lambda m: m["id"] == gone.message_id, "the message to delete")
    bot_side.call(bot_side.bot.delete_message(chat_id, gone.message_id))
    page.until(
        lambda d: all(m["id"] != gone.message_id for m in page.messages()),
        "the deleted message to disappear",
    )

    # The sample buttons send unexpected input to the bot.
    page.el("send-sticker").click()
    page.wait_message(lambda m: not m["bot"] and "Sticker" in m["media"], "the sent sticker")
    bot_side.next_update(
        lambda u: u.message is not None and u.message.sticker is not None, "a sticker"
    )
    page.el("send-voice").click()
    bot_side.next_update(
        lambda u: u.message is not None and u.message.voice is not None, "a voice note"
    )
    page.el("message-input").send_keys("Mijn foto")
    page.el("send-photo").click()
    sent_photo = bot_side.next_update(
        lambda u: u.message is not None and bool(u.message.photo), "a photo"
    )
    assert sent_photo.message is not None and sent_photo.message.caption == "Mijn foto"
    page.el("send-document").click()
    bot_side.next_update(
        lambda u: u.message is not None and u.message.document is not None, "a file"
    )

    # Accessible basics: a labelled input, real buttons.
    label = page.driver.find_element(By.CSS_SELECTOR, 'label[for="message-input"]')
    assert label.get_attribute("textContent") == "Bericht"
    assert {
        b.tag_name for b in page.driver.find_elements(By.CSS_SELECTOR, hook("inline-button"))
    } <= {
        "button",
        "a",
    }
    assert page.el("send-button").tag_name == "button"

    page.screenshot(tmp_path / "bare-client.png")
    assert page.script_errors() == []
    assert sandbox.violations == []


def test_coach_sees_topics_writes_in_a_topic_and_replies_in_private(
    sandbox: Sandbox, bot_side: BotSide, browser: WebDriver, tmp_path: Path
) -> None:
    """The coach view: group topics in the sidebar, thread ids and reply ids on what is sent."""
    coach = sandbox.add_user("Coach Anna")
    group = sandbox.add_forum_group("Coachpraktijk", [coach.id])
    sandbox.info.update({"coaches": [coach.id], "coach_group": group})
    topic = bot_side.call(bot_side.bot.create_forum_topic(group, "Sanne · 1001"))
    card = bot_side.call(
        bot_side.bot.send_message(
            group, "Sanne vraagt om haar coach.", message_thread_id=topic.message_thread_id
        )
    )
    relayed = bot_side.call(bot_side.bot.send_message(coach.id, "Van Tom: kun je me bellen?"))

    page = ChatPage(browser, sandbox.url)
    page.open()
    page.choose_person(coach.id)
    page.click(
        lambda d: next(
            (
                t
                for t in d.find_elements(By.CSS_SELECTOR, hook("topic-item"))
                if "Sanne · 1001" in t.text
            ),
            None,
        ),
        "the client's topic in the sidebar",
    )
    page.wait_message(lambda m: m["id"] == card.message_id, "the card in the topic")
    # The relayed message lives in the coach's private chat, not in the topic.
    assert all("kun je me bellen" not in m["all"] for m in page.messages())

    page.send("Hoi Sanne, ik ben er.")
    update = bot_side.next_update(
        lambda u: u.message is not None and u.message.text == "Hoi Sanne, ik ben er.",
        "the coach's message in the topic",
    )
    assert update.message is not None and update.message.from_user is not None
    assert update.message.chat.id == group
    assert update.message.message_thread_id == topic.message_thread_id
    assert update.message.from_user.id == coach.id

    # A topic made while the page is open shows up by itself.
    later = bot_side.call(bot_side.bot.create_forum_topic(group, "Tom · 1002"))
    page.until(
        lambda d: any(
            t.get_attribute("data-thread-id") == str(later.message_thread_id)
            for t in d.find_elements(By.CSS_SELECTOR, hook("topic-item"))
        ),
        "the new topic in the sidebar",
    )

    # In the private chat the coach clicks a relayed message to answer it.
    page.click(
        lambda d: d.find_element(
            By.CSS_SELECTOR, f'{hook("chat-item")}[data-chat-id="{coach.id}"]'
        ),
        "the coach's private chat",
    )
    page.wait_message(lambda m: m["id"] == relayed.message_id, "the relayed message")
    page.click(
        lambda d: page.message(relayed.message_id).find_element(By.CSS_SELECTOR, ".bubble"),
        "the relayed message's bubble",
    )
    page.until(lambda d: page.el("reply-bar").is_displayed(), "the reply bar")
    assert "kun je me bellen" in page.el("reply-snippet").text
    page.send("Ja, om drie uur.")
    reply = bot_side.next_update(
        lambda u: u.message is not None and u.message.text == "Ja, om drie uur.",
        "the coach's reply",
    )
    assert reply.message is not None and reply.message.reply_to_message is not None
    assert reply.message.reply_to_message.message_id == relayed.message_id
    assert reply.message.chat.id == coach.id
    page.wait_message(
        lambda m: not m["bot"] and "kun je me bellen" in m["all"] and "drie uur" in m["text"],
        "the reply with its quote",
    )
    assert not page.el("reply-bar").is_displayed()

    page.screenshot(tmp_path / "bare-coach.png")

    # At phone width the page shows either the chat or the list, with a way back.
    page.driver.set_window_size(420, 860)
    page.until(lambda d: not page.el("chat-list").is_displayed(), "the list to step aside")
    assert page.el("message-input").is_displayed()
    page.el("back-button").click()
    page.until(lambda d: page.el("chat-list").is_displayed(), "the list after Terug")
    assert not page.el("message-input").is_displayed()
    page.screenshot(tmp_path / "bare-coach-phone.png")
    assert page.script_errors() == []
    assert sandbox.violations == []


# ------------------------------------------------------------------------------ reading aids
# Issue 15: "typt…" while the bot shows a chat action, a marker for new messages when scrolled
# up, /commands in bot text to tap, emoji in colour, a layout that fits a 360 px phone, and the
# coach view opening on the latest active topic with unread counts that survive a reload.

_OVERFLOW_JS = """
return [...document.querySelectorAll('body *')]
  .filter((e) => e.offsetParent !== null && e.getBoundingClientRect().right > innerWidth + 1)
  .map((e) => e.tagName + '.' + e.className);
"""
_SCROLLED_UP_JS = """
const wrap = document.querySelector('.messages-wrap');
wrap.scrollTop = 0;
return wrap.scrollHeight - wrap.clientHeight;
"""
# Draws the emoji with the page's own font and says whether any pixel has colour.
_EMOJI_IN_COLOUR_JS = """
const canvas = document.createElement('canvas');
canvas.width = 64; canvas.height = 64;
const ctx = canvas.getContext('2d');
ctx.font = '40px ' + getComputedStyle(document.body).fontFamily;
ctx.textBaseline = 'top';
ctx.fillText(arguments[0], 4, 4);
const px = ctx.getImageData(0, 0, 64, 64).data;
let coloured = 0;
for (let i = 0; i < px.length; i += 4) {
  const [r, g, b, a] = [px[i], px[i + 1], px[i + 2], px[i + 3]];
  if (a > 0 && (Math.abs(r - g) > 40 || Math.abs(g - b) > 40 || Math.abs(r - b) > 40)) coloured++;
}
return coloured;
"""


def _client_chat(page: ChatPage, bot_side: BotSide, name: str) -> int:
    """Create a client on the page and let them say hello; the bot's chat id with them."""
    page.create_client(name)
    page.send("hallo")
    update = bot_side.next_update(
        lambda u: u.message is not None and u.message.text == "hallo", "the client's hello"
    )
    assert update.message is not None
    return update.message.chat.id


def test_typing_commands_and_new_messages(
    sandbox: Sandbox, bot_side: BotSide, browser: WebDriver, tmp_path: Path
) -> None:
    page = ChatPage(browser, sandbox.url)
    page.open()
    chat_id = _client_chat(page, bot_side, "Noor")
    bot = bot_side.bot

    # "typt…" while the bot shows the chat action; gone with its message.
    bot_side.call(bot.send_chat_action(chat_id, "typing"))
    page.until(lambda d: page.el("typing-indicator").is_displayed(), "the typing indicator")
    assert "typt" in page.el("typing-indicator").text
    assert "typt" in page.el("chat-subtitle").text
    page.screenshot(tmp_path / "typing.png")
    said = bot_side.call(bot.send_message(chat_id, "Typ /menu voor het menu, of /hulp."))
    page.wait_message(lambda m: m["id"] == said.message_id, "the message after typing")
    page.until(lambda d: not page.el("typing-indicator").is_displayed(), "typing to end")

    # /commands in the bot's text can be tapped, and send the command.
    bubble = page.message(said.message_id)
    commands = bubble.find_elements(By.CSS_SELECTOR, hook("command-link"))
    assert [c.text for c in commands] == ["/menu", "/hulp"]
    commands[1].click()
    tapped = bot_side.next_update(
        lambda u: u.message is not None and u.message.text == "/hulp", "the tapped /hulp"
    )
    assert tapped.message is not None and tapped.message.chat.id == chat_id

    # Scrolled up to read: new messages get a line where they start and a button down.
    for n in range(25):
        bot_side.call(bot.send_message(chat_id, f"Eerder bericht {n}: " + "bla " * 30))
    page.wait_message(lambda m: m["text"].startswith("Eerder bericht 24"), "the long history")
    assert not page.el("new-messages").is_displayed()
    assert browser.execute_script(_SCROLLED_UP_JS) > 200
    first = bot_side.call(bot.send_message(chat_id, "Nieuw één"))
    bot_side.call(bot.send_message(chat_id, "Nieuw twee"))
    page.until(lambda d: "2 nieuwe berichten" in page.el("new-messages").text, "the marker")
    dividers = browser.find_elements(By.CSS_SELECTOR, hook("new-divider"))
    assert len(dividers) == 1
    following = dividers[0].find_element(By.XPATH, "following-sibling::li[1]")
    assert following.get_attribute("data-message-id") == str(first.message_id)
    page.screenshot(tmp_path / "new-messages.png")
    page.el("new-messages").click()
    page.until(lambda d: not page.el("new-messages").is_displayed(), "the marker to go")
    # Down at the new messages: the line where they start is in view.
    top = browser.execute_script("return arguments[0].getBoundingClientRect().top", dividers[0])
    assert 0 <= top < browser.execute_script("return innerHeight"), top
    assert page.script_errors() == []
    assert sandbox.violations == []


def test_a_phone_of_360_pixels(
    sandbox: Sandbox, bot_side: BotSide, browser: WebDriver, tmp_path: Path
) -> None:
    page = ChatPage(browser, sandbox.url)
    page.open()
    chat_id = _client_chat(page, bot_side, "Roos")
    bot_side.call(
        bot_side.bot.send_message(
            chat_id,
            "Hoi Roos 👋 Een lange regel om te zien of alles past: "
            "https://example.org/een/heel/lang/adres/dat/niet/mag/uitsteken " + "woord " * 30,
            reply_markup=InlineKeyboardMarkup(
                [
                    [
                        InlineKeyboardButton("Ja", callback_data="a"),
                        InlineKeyboardButton("Nee, nog niet", callback_data="b"),
                    ]
                ]
            ),
        )
    )
    page.wait_message(lambda m: "Hoi Roos" in m["text"], "the long message")
    browser.set_window_size(360, 740)
    assert browser.execute_script("return innerWidth") <= 360
    page.until(lambda d: page.el("message-input").is_displayed(), "the chat at phone width")
    assert browser.execute_script(_OVERFLOW_JS) == [], "something sticks out at 360 px"
    for name in ("message-input", "send-button", "back-button"):
        box = page.el(name).rect
        assert box["x"] >= 0 and box["x"] + box["width"] <= 360, (name, box)
    page.screenshot(tmp_path / "phone-chat.png")
    page.el("back-button").click()
    page.until(lambda d: page.el("chat-list").is_displayed(), "the list at phone width")
    assert browser.execute_script(_OVERFLOW_JS) == [], "the list sticks out at 360 px"
    page.screenshot(tmp_path / "phone-list.png")
    assert page.script_errors() == []


def test_emoji_show_in_colour(sandbox: Sandbox, browser: WebDriver) -> None:
    """A fresh Debian has no colour emoji font: scripts/bootstrap.sh installs Noto Color Emoji,
    and the page asks for it. Without it, the bot's 👋 and 🌿 are empty boxes."""
    page = ChatPage(browser, sandbox.url)
    page.open()
    for emoji in ("👋", "🌱", "🌿", "🆘"):
        assert browser.execute_script(_EMOJI_IN_COLOUR_JS, emoji) > 50, emoji


def test_the_coach_view_opens_on_the_latest_topic_with_unread_counts(
    sandbox: Sandbox, bot_side: BotSide, browser: WebDriver, tmp_path: Path
) -> None:
    bot = bot_side.bot
    coach = sandbox.add_user("Coach Anna")
    group = sandbox.add_forum_group("Coachpraktijk", [coach.id])
    sandbox.info.update({"coaches": [coach.id], "coach_group": group})
    older = bot_side.call(bot.create_forum_topic(group, "Sanne · 1001"))
    newer = bot_side.call(bot.create_forum_topic(group, "Tom · 1002"))
    for n in range(3):
        bot_side.call(
            bot.send_message(group, f"Sanne {n}", message_thread_id=older.message_thread_id)
        )
    bot_side.call(
        bot.send_message(group, "Tom vraagt iets", message_thread_id=newer.message_thread_id)
    )
    bot_side.call(bot.send_message(coach.id, "Een relay in de privéchat"))

    page = ChatPage(browser, sandbox.url)
    page.open()
    page.choose_person(coach.id)

    def badge(selector: str) -> str:
        found = browser.find_elements(By.CSS_SELECTOR, f"{selector} {hook('unread-badge')}")
        return found[0].text if found else ""

    older_item = f'{hook("topic-item")}[data-thread-id="{older.message_thread_id}"]'
    newer_item = f'{hook("topic-item")}[data-thread-id="{newer.message_thread_id}"]'
    private_item = f'{hook("chat-item")}[data-chat-id="{coach.id}"]'
    page.until(lambda d: page.el("chat-title").text == "Tom · 1002", "the latest active topic")
    page.wait_message(lambda m: m["text"] == "Tom vraagt iets", "its message")
    page.until(lambda d: badge(older_item) == "3", "3 unread in the older topic")
    assert badge(newer_item) == "" and badge(private_item) == "1"
    page.screenshot(tmp_path / "coach-latest-topic.png")

    # A reload keeps what was seen and what was not.
    browser.refresh()
    page.until(lambda d: page.el("chat-title").text == "Tom · 1002", "the latest topic again")
    page.until(lambda d: badge(older_item) == "3", "still 3 unread after a reload")
    page.click(lambda d: d.find_element(By.CSS_SELECTOR, older_item), "the older topic")
    page.wait_message(lambda m: m["text"] == "Sanne 2", "the older topic's messages")
    page.until(lambda d: badge(older_item) == "", "its badge to go once read")
    browser.refresh()
    page.until(lambda d: page.el("chat-title").text, "the page after a reload")
    page.until(lambda d: badge(private_item) == "1", "the sidebar after a reload")
    assert badge(older_item) == ""
    assert page.script_errors() == []


# ------------------------------------------------------------------------------ reactions
# Issue 14: a person reacts to a message with a small picker; reactions show under messages, in
# a client's chat and in the coach view's topic alike.


def _reactions_under(page: ChatPage, message_id: int) -> list[tuple[str, str, bool]]:
    """(emoji, who, mine) of each reaction chip under a message."""
    try:
        chips = page.message(message_id).find_elements(By.CSS_SELECTOR, hook("reaction"))
        return [
            (
                c.get_attribute("data-emoji") or "",
                c.get_attribute("data-by") or "",
                c.get_attribute("aria-pressed") == "true",
            )
            for c in chips
        ]
    except WebDriverException:
        return []


def _pick_reaction(page: ChatPage, message_id: int, emoji: str) -> None:
    """Hover a message, open its reaction picker and choose an emoji."""

    def open_picker(driver: WebDriver) -> bool:
        node = page.message(message_id)
        ActionChains(driver).move_to_element(
            node.find_element(By.CSS_SELECTOR, ".bubble")
        ).perform()
        node.find_element(By.CSS_SELECTOR, hook("react-button")).click()
        return bool(node.find_elements(By.CSS_SELECTOR, hook("reaction-picker")))

    page.until(open_picker, f"the reaction picker of message {message_id}")
    page.click(
        lambda d: page.message(message_id).find_element(
            By.CSS_SELECTOR, f'{hook("reaction-option")}[data-emoji="{emoji}"]'
        ),
        f"{emoji} in the picker",
    )


def test_reactions_picked_shown_and_taken_away(
    sandbox: Sandbox, bot_side: BotSide, browser: WebDriver, tmp_path: Path
) -> None:
    bot = bot_side.bot
    # Like our bot, ask for reactions: Telegram sends none otherwise.
    bot_side.call(bot.get_updates(allowed_updates=["message", "message_reaction"], timeout=0))
    page = ChatPage(browser, sandbox.url)
    page.open()
    chat_id = _client_chat(page, bot_side, "Sanne")
    said = next(m for m in page.messages() if m["text"] == "hallo")
    sent = bot_side.call(bot.send_message(chat_id, "💬 Je coach\nHoe gaat het vandaag?"))
    page.wait_message(lambda m: m["id"] == sent.message_id, "the coach's message")

    _pick_reaction(page, sent.message_id, "👍")
    update = bot_side.next_update(lambda u: u.message_reaction is not None, "the reaction")
    reaction = update.message_reaction
    assert reaction is not None and reaction.message_id == sent.message_id
    assert [r.emoji for r in reaction.new_reaction] == ["👍"]  # type: ignore[attr-defined]
    page.until(
        lambda d: _reactions_under(page, sent.message_id) == [("👍", str(chat_id), True)],
        "my 👍 under the message",
    )
    # The bot's reaction on the person's own message shows, marked as the bot's.
    bot_side.call(bot.set_message_reaction(chat_id, said["id"], "❤"))
    page.until(
        lambda d: _reactions_under(page, said["id"]) == [("❤", "bot", False)],
        "the bot's ❤ under my message",
    )
    page.screenshot(tmp_path / "reactions-client.png")
    # Tapping my own reaction takes it away.
    page.click(
        lambda d: page.message(sent.message_id).find_element(By.CSS_SELECTOR, hook("reaction")),
        "my reaction chip",
    )
    gone = bot_side.next_update(lambda u: u.message_reaction is not None, "the removal")
    assert gone.message_reaction is not None and gone.message_reaction.new_reaction == ()
    page.until(lambda d: _reactions_under(page, sent.message_id) == [], "no reaction left")

    # The coach view: reactions in a topic, both ways.
    coach = sandbox.add_user("Coach Anna")
    group = sandbox.add_forum_group("Coachpraktijk", [coach.id])
    sandbox.info.update({"coaches": [coach.id], "coach_group": group})
    topic = bot_side.call(bot.create_forum_topic(group, "Sanne · 1001"))
    relayed = bot_side.call(
        bot.send_message(group, "✉️ Sanne\nHet gaat goed", message_thread_id=topic.message_thread_id)
    )
    page.choose_person(coach.id)
    page.until(lambda d: page.el("chat-title").text == "Sanne · 1001", "the client's topic")
    page.wait_message(lambda m: m["id"] == relayed.message_id, "the relayed message")
    # In the group the bot's messages carry a "bot" tag: its name is no person's.
    tag = page.message(relayed.message_id).find_element(By.CSS_SELECTOR, hook("bot-tag"))
    assert tag.text.lower() == "bot"
    _pick_reaction(page, relayed.message_id, "🙏")
    update = bot_side.next_update(
        lambda u: u.message_reaction is not None and u.message_reaction.chat.id == group,
        "the coach's reaction in the topic",
    )
    assert update.message_reaction is not None and update.message_reaction.user is not None
    assert update.message_reaction.user.id == coach.id
    page.send("Wat fijn!")
    mine = page.wait_message(lambda m: m["text"] == "Wat fijn!", "the coach's message")
    bot_side.call(bot.set_message_reaction(group, mine["id"], "👍"))
    page.until(
        lambda d: _reactions_under(page, mine["id"]) == [("👍", "bot", False)],
        "the client's reaction (set by the bot) on the coach's message",
    )
    page.screenshot(tmp_path / "reactions-coach.png")
    assert page.script_errors() == []
    assert sandbox.violations == []
