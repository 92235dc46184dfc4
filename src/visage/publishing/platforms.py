"""Each platform's published limits and the checks a post must pass before it is accepted.

X counts a weighted length (twitter-text v3 configuration: code points in the Latin, general
punctuation ranges weigh 1, everything else (CJK, emoji sequences) 2, every URL 23, 280 in
all: https://docs.x.com/resources/fundamentals/counting-characters). Instagram: 2,200
characters, 30 hashtags, 20 @-tags, 1-10 images with an aspect ratio between 4:5 and 1.91:1
(https://developers.facebook.com/docs/instagram-platform/content-publishing). LinkedIn 3,000,
Facebook 63,206, Mastodon 500 (URLs 23), Bluesky 300 graphemes and 4 images of at most
1,000,000 bytes (the app.bsky.feed.post and app.bsky.embed.images lexicons), as the AllIN guide
and the platforms' docs give them.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import regex

from visage.publishing.models import Platform

# URLs as twitter-text finds them: a scheme or a known top-level domain, ASCII URL characters.
_URL_CHARS = r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]"
URL_PATTERN = regex.compile(
    rf"https?://{_URL_CHARS}+|\b(?:[a-z0-9-]+\.)+(?:com|org|net|io|fr|de|uk)\b(?:/{_URL_CHARS}*)?"
)
HASHTAG_PATTERN = regex.compile(r"(?<![\w&])#\w+")
MENTION_PATTERN = regex.compile(r"(?<![\w@])@\w+")
EMOJI_PATTERN = regex.compile(r"\p{Extended_Pictographic}|\p{Regional_Indicator}")
# twitter-text v3: code points in these ranges weigh 100 (of a scale of 100), others 200.
_LIGHT_RANGES = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))
TRANSFORMED_URL_LENGTH = 23
# Words the platforms' spam filters flag; a post containing them is refused before it leaves.
BANNED_WORDS = ("buy followers", "free followers", "click here to win", "guaranteed income")


@dataclass(frozen=True)
class PlatformRules:
    platform: Platform
    max_length: int
    weighted: bool = False  # X: CJK and emoji count 2
    urls_count_as: int | None = None  # a URL counts this many characters whatever its length
    max_hashtags: int | None = None
    max_mentions: int | None = None
    min_images: int = 0
    max_images: int = 4
    max_image_bytes: int = 5 * 1024 * 1024
    # Width / height the platform accepts; outside it the published copy is cropped.
    aspect_range: tuple[float, float] | None = None


RULES: dict[Platform, PlatformRules] = {
    Platform.X: PlatformRules(
        Platform.X, 280, weighted=True, urls_count_as=TRANSFORMED_URL_LENGTH, max_images=4
    ),
    Platform.INSTAGRAM: PlatformRules(
        Platform.INSTAGRAM,
        2200,
        max_hashtags=30,
        max_mentions=20,
        min_images=1,
        max_images=10,
        max_image_bytes=8 * 1024 * 1024,
        aspect_range=(4 / 5, 1.91),
    ),
    Platform.LINKEDIN: PlatformRules(Platform.LINKEDIN, 3000, max_images=20),
    Platform.FACEBOOK: PlatformRules(
        Platform.FACEBOOK, 63206, max_images=10, max_image_bytes=10 * 1024 * 1024
    ),
    Platform.MASTODON: PlatformRules(
        Platform.MASTODON, 500, urls_count_as=TRANSFORMED_URL_LENGTH, max_images=4
    ),
    Platform.BLUESKY: PlatformRules(Platform.BLUESKY, 300, max_images=4, max_image_bytes=1_000_000),
}


@dataclass(frozen=True)
class Violation:
    platform: Platform
    rule: str  # "length", "hashtags", "mentions", "images", "banned_words"
    message: str
    limit: int | None = None
    actual: int | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "platform": self.platform.value,
            "rule": self.rule,
            "message": self.message,
            "limit": self.limit,
            "actual": self.actual,
        }


def _weight(grapheme: str) -> int:
    if EMOJI_PATTERN.search(grapheme):
        return 2  # an emoji sequence (ZWJ, skin tone, flag) counts 2 however long it is
    total = 0
    for character in grapheme:
        point = ord(character)
        if unicodedata.combining(character):
            continue
        light = any(start <= point <= end for start, end in _LIGHT_RANGES)
        total += 1 if light else 2
    return total


def counted_length(text: str, platform: Platform) -> int:
    """The length the platform counts for `text`."""
    rules = RULES[platform]
    normalized = unicodedata.normalize("NFC", text)
    length, rest = 0, normalized
    if rules.urls_count_as is not None:
        urls = URL_PATTERN.findall(normalized)
        length += rules.urls_count_as * len(urls)
        rest = URL_PATTERN.sub("", normalized)
    graphemes = regex.findall(r"\X", rest)
    if rules.weighted:
        return length + sum(_weight(grapheme) for grapheme in graphemes)
    return length + len(graphemes)


def hashtags(text: str) -> list[str]:
    return list(HASHTAG_PATTERN.findall(text))


def mentions(text: str) -> list[str]:
    return list(MENTION_PATTERN.findall(text))


def violations(text: str, platform: Platform, image_count: int) -> list[Violation]:
    """Every rule of `platform` the post breaks (empty: it may be sent)."""
    rules = RULES[platform]
    found: list[Violation] = []
    name = platform.value
    counted = {
        "length": (counted_length(text, platform), rules.max_length, "characters counted"),
        "hashtags": (len(hashtags(text)), rules.max_hashtags, "hashtags"),
        "mentions": (len(mentions(text)), rules.max_mentions, "mentions"),
    }
    for rule, (actual, limit, what) in counted.items():
        if limit is not None and actual > limit:
            message = f"{name}: {actual} {what}, at most {limit}."
            found.append(Violation(platform, rule, message, limit, actual))
    if image_count < rules.min_images or image_count > rules.max_images:
        found.append(
            Violation(
                platform,
                "images",
                f"{name}: {image_count} photos, {rules.min_images} to {rules.max_images} allowed.",
                rules.max_images,
                image_count,
            )
        )
    lowered = text.lower()
    banned = [word for word in BANNED_WORDS if word in lowered]
    if banned:
        found.append(
            Violation(platform, "banned_words", f"{name}: flagged as spam: {', '.join(banned)}.")
        )
    if not text.strip() and image_count == 0:
        found.append(Violation(platform, "empty", f"{name}: a post needs text or a photo."))
    return found
