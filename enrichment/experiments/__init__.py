"""Which context helps: named strategies for building the context an agent
receives, experiments that assign them to conversations deterministically,
and the results of each experiment from the outcomes of conversations."""
