"""The solver role: stakes, bids in sealed-bid auctions, trains, commits its trace, gets paid."""
