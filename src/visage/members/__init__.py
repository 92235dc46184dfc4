"""Members: the people of a tenant (gym members, club guests), with their biometric consent."""
