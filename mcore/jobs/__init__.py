"""Background jobs: the queue, the worker, the sandbox and the media processors.

Kept free of imports so ``mcore.settings`` and the sandbox's child process can import
pieces of it cheaply.
"""
