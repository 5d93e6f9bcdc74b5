"""msocial: the social domain over the archive (DESIGN.md). Its first part is messaging:
conversations between accounts, with live delivery on the events socket."""
