"""The hub's service layer: everything between the API routes and the database.

Routes parse input, call one service function and return its public model. Services run the
queries, apply the domain core, write audit entries and raise only Doorward errors.
"""
