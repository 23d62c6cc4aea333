"""pytest"""
