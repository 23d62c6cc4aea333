"""jscompat"""
