"""The `porchlight-agency` command: an agency's side of the Porchlight federation."""
