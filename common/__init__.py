"""The kernel every service shares (staff service, handoff, studio): HTTP helpers, privacy masking and the
contracts between services. Rasa-free, and it imports no other package of this project."""
