"""The appliance: install, upgrade and remove a box's roles (`./setup.sh install ROLE`). Standard library only."""
