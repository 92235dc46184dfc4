"""One hook the other domains call to tell a member something, on the member's channel."""
