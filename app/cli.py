import sys
def main(argv=None) -> int:
    print("gic: not yet"); return 0
