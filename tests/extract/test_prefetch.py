import pytest

from ledgerlink.extract.prefetch import prefetch


def test_prefetch_keeps_order_and_passes_errors_through():
    assert list(prefetch(iter(range(10)))) == list(range(10))

    def broken():
        yield 1
        raise ConnectionError("dropped")

    seen = []
    with pytest.raises(ConnectionError, match="dropped"):
        for item in prefetch(broken()):
            seen.append(item)
    assert seen == [1]


def test_abandoning_the_consumer_stops_the_producer():
    produced = []

    def endless():
        n = 0
        while True:
            produced.append(n)
            yield n
            n += 1

    for item in prefetch(endless(), depth=1):
        if item == 3:
            break
    count = len(produced)
    assert count <= 3 + 3  # the producer stopped within a page or two of the consumer
