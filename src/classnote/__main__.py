from classnote.cli import main

# Guarded: the render processes (classnote.core.workpool) start by importing the main module.
if __name__ == "__main__":
    main()
