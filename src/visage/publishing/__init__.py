"""Social publishing (AllIN): connected accounts, posts from event photos published exactly
once, consent-safe images and AI captions with monthly credits."""
